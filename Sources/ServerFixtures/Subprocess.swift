import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs programs for test setup (openssl, doveadm, postfix) and starts long-lived servers.
///
/// Built on `posix_spawnp` with close-on-exec pipes: a daemon started by one test must not
/// inherit the pipe another test is reading, or that reader would wait for the daemon to exit.
public enum Subprocess {
  public struct Failure: Error, CustomStringConvertible {
    public let command: String
    public let status: Int32
    public let output: String
    public var description: String { "\(command) exited with \(status): \(output)" }
  }

  public struct Result: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
  }

  /// Runs `arguments[0]` (searched on PATH) to completion and returns its status and output.
  @discardableResult
  public static func run(
    _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil, check: Bool = true
  ) throws -> Result {
    signal(SIGPIPE, SIG_IGN)  // a child that exits early must not kill the test process
    let stdinPipe = try makePipe()
    let stdoutPipe = try makePipe()
    let stderrPipe = try makePipe()
    let pid: pid_t
    do {
      pid = try spawn(
        arguments, stdin: stdinPipe.read, stdout: stdoutPipe.write, stderr: stderrPipe.write, environment: environment)
    } catch {
      [stdinPipe.read, stdinPipe.write, stdoutPipe.read, stdoutPipe.write, stderrPipe.read, stderrPipe.write]
        .forEach { close($0) }
      throw error
    }
    close(stdinPipe.read)
    close(stdoutPipe.write)
    close(stderrPipe.write)
    let (output, errors) = pump(
      input: input.map { [UInt8]($0) } ?? [], to: stdinPipe.write,
      stdout: stdoutPipe.read, stderr: stderrPipe.read)
    let status = wait(for: pid)
    let result = Result(
      status: status, stdout: String(decoding: output, as: UTF8.self), stderr: String(decoding: errors, as: UTF8.self))
    if check && status != 0 {
      throw Failure(command: arguments.joined(separator: " "), status: status, output: result.stderr + result.stdout)
    }
    return result
  }

  /// Starts `arguments` in the background with stdout and stderr appended to `logFile`.
  public static func start(_ arguments: [String], logFile: String) throws -> pid_t {
    let log = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard log >= 0 else { throw FixtureError("cannot open \(logFile): \(String(cString: strerror(errno)))") }
    defer { close(log) }
    let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
    defer { close(null) }
    return try spawn(arguments, stdin: null, stdout: log, stderr: log, environment: nil)
  }

  /// Waits for `pid` and returns its exit status (128 + signal when killed).
  @discardableResult
  public static func wait(for pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    if status & 0x7f == 0 { return (status >> 8) & 0xff }
    return 128 + (status & 0x7f)
  }

  /// Whether `program` is on PATH.
  public static func exists(_ program: String) -> Bool {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").contains { access("\($0)/\(program)", X_OK) == 0 }
  }

  // MARK: Plumbing

  private static func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw FixtureError("pipe: \(String(cString: strerror(errno)))") }
    // Close-on-exec: only the dup2'd copies reach a child, never a pipe another test reads.
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return (fds[0], fds[1])
  }

  private static func spawn(
    _ arguments: [String], stdin: Int32, stdout: Int32, stderr: Int32, environment: [String: String]?
  ) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdin, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    var merged = ProcessInfo.processInfo.environment
    if let environment { merged.merge(environment) { $1 } }
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    // Children start as from a shell: no blocked signals (a test thread blocks some, and a
    // Dovecot master that inherits a blocked SIGCHLD never learns its processes died) and
    // default handlers.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
    guard status == 0 else {
      throw FixtureError("cannot run \(arguments[0]): \(String(cString: strerror(status)))")
    }
    return pid
  }

  /// Feeds `input` and drains both output pipes together so no side can block on a full pipe.
  private static func pump(input: [UInt8], to stdin: Int32, stdout: Int32, stderr: Int32) -> ([UInt8], [UInt8]) {
    var output: [UInt8] = []
    var errors: [UInt8] = []
    var written = 0
    var inputOpen = true
    if input.isEmpty {
      close(stdin)
      inputOpen = false
    }
    var open = [stdout: true, stderr: true]
    var buffer = [UInt8](repeating: 0, count: 65536)
    while open.values.contains(true) || inputOpen {
      var fds: [pollfd] = []
      if inputOpen { fds.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
      for (fd, isOpen) in open where isOpen { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
      guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { break }
      for entry in fds where entry.revents != 0 {
        if entry.fd == stdin && inputOpen {
          let count = input.withUnsafeBytes { write(stdin, $0.baseAddress! + written, input.count - written) }
          if count > 0 { written += count }
          if count < 0 || written == input.count {
            close(stdin)
            inputOpen = false
          }
        } else {
          let count = read(entry.fd, &buffer, buffer.count)
          if count > 0 {
            if entry.fd == stdout { output += buffer[0..<count] } else { errors += buffer[0..<count] }
          } else if count == 0 || errno != EINTR {
            close(entry.fd)
            open[entry.fd] = false
          }
        }
      }
    }
    return (output, errors)
  }
}
