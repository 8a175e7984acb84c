import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs a command the user gave (`/bin/sh -c CMD`) with a deadline and captures what it
/// prints: for secrets printed by the user's own tools.
///
/// The command gets a process group of its own, standard input from /dev/null, default
/// signal handlers and no blocked signals (as from a shell). When the deadline passes the
/// whole group is killed, SIGTERM and then SIGKILL, so a helper it started (curl, python)
/// does not live on. Reading stops once the command has exited and its output is drained,
/// even if a background child still holds the pipe.
enum CommandRunner {
  struct Outcome: Sendable, Equatable {
    enum Ending: Sendable, Equatable {
      case exited(Int32)
      case killedBySignal(Int32)
    }
    let ending: Ending
    let stdout: [UInt8]
    let stderr: [UInt8]
  }

  enum Failure: Error, Equatable {
    /// The shell could not be started (errno text).
    case couldNotStart(String)
    /// The deadline passed; the process group was killed. What it printed to standard
    /// error until then.
    case timedOut(stderr: [UInt8])
  }

  /// At most this much of each stream is kept: a token is a few kilobytes.
  static let outputLimit = 1 << 20
  private static let spawning = NSLock()

  static func run(_ command: String, timeout: Duration) throws -> Outcome {
    // Pipes are made and handed over under one lock, so commands started at once by two
    // workers never inherit each other's pipe between pipe() and FD_CLOEXEC.
    let (output, errors, pid) = try spawning.withLock {
      let output = try makePipe()
      let errors = try makePipe()
      do {
        let pid = try spawn(command, stdout: output.write, stderr: errors.write)
        close(output.write)
        close(errors.write)
        return (output, errors, pid)
      } catch {
        [output.read, output.write, errors.read, errors.write].forEach { close($0) }
        throw error
      }
    }
    defer {
      close(output.read)
      close(errors.read)
    }
    let deadline = ContinuousClock.now + timeout
    var collected: [Int32: [UInt8]] = [output.read: [], errors.read: []]
    var open: Set<Int32> = [output.read, errors.read]
    var status: Int32?
    while true {
      if status == nil { status = reaped(pid) }
      if status != nil && open.isEmpty { break }
      let left = deadline - ContinuousClock.now
      if left <= .zero {
        killGroup(pid)
        throw Failure.timedOut(stderr: collected[errors.read] ?? [])
      }
      // Wake at least every 50 ms: to notice the command's exit while a child it left in
      // the background keeps the pipe open, and to keep the deadline.
      let wait = status == nil ? Int32(min(50, max(1, left / .milliseconds(1)))) : 0
      if open.isEmpty {
        usleep(useconds_t(wait) * 1000)
        continue
      }
      var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      let ready = poll(&fds, nfds_t(fds.count), wait)
      if ready < 0 && errno != EINTR { open.removeAll() }
      if ready == 0 && status != nil { break }  // exited, and nothing more to read
      for entry in fds where entry.revents != 0 {
        if !drain(entry.fd, into: &collected[entry.fd, default: []]) { open.remove(entry.fd) }
      }
    }
    let final = status ?? waitFor(pid)
    let ending: Outcome.Ending = final & 0x7f == 0 ? .exited((final >> 8) & 0xff) : .killedBySignal(final & 0x7f)
    return Outcome(ending: ending, stdout: collected[output.read] ?? [], stderr: collected[errors.read] ?? [])
  }

  /// Reads what is there; false at end of file (or an error), when the pipe is done.
  private static func drain(_ fd: Int32, into bytes: inout [UInt8]) -> Bool {
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
      let count = read(fd, &buffer, buffer.count)
      if count > 0 {
        if bytes.count < outputLimit { bytes += buffer[0..<min(count, outputLimit - bytes.count)] }
        continue
      }
      if count < 0 && errno == EINTR { continue }
      return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }
  }

  /// The raw wait status if `pid` has exited (and is now reaped), else nil.
  private static func reaped(_ pid: pid_t) -> Int32? {
    var status: Int32 = 0
    let result = waitpid(pid, &status, WNOHANG)
    return result == pid ? status : nil
  }

  private static func waitFor(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
  }

  /// SIGTERM to the group, a moment to go, then SIGKILL to whatever is left; reaps the
  /// command (its children are reparented and reaped by init).
  private static func killGroup(_ pid: pid_t) {
    kill(-pid, SIGTERM)
    for _ in 0..<20 {
      if reaped(pid) != nil { break }
      usleep(25_000)
    }
    kill(-pid, SIGKILL)
    _ = waitpid(pid, nil, 0)
  }

  private static func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw Failure.couldNotStart("pipe: \(String(cString: strerror(errno)))") }
    // Close-on-exec: only the dup2'd copies reach the command, never a pipe another
    // command's reader waits on.
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
    return (fds[0], fds[1])
  }

  private static func spawn(_ command: String, stdout: Int32, stderr: Int32) throws -> pid_t {
    let environment = ChildEnvironment.cStrings()
    defer { environment.forEach { free($0) } }
    switch ChildSpawn.start(
      "/bin/sh", arguments: ["-c", command], environment: environment, stdout: stdout, stderr: stderr)
    {
    case .success(let pid): return pid
    case .failure(let error): throw Failure.couldNotStart(error.reason)
    }
  }
}
