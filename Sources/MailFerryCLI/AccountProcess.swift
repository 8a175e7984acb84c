import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One account of a batch running as a child process of the batch: a crash or a hang in
/// one account cannot stop the others, and the child's exit status is the account's.
///
/// The child gets a process group of its own, so a Ctrl-C at the terminal reaches only the
/// batch, which passes one stop request on to each child (a second signal would make the
/// child quit without committing its batch in flight). It starts with no blocked signals
/// and default handlers, standard input from /dev/null, and its standard output and error
/// appended to the given files.
struct AccountProcess {
  enum Ending: Equatable, Sendable {
    case exited(Int32)
    case killedBySignal(Int32)
  }

  let pid: pid_t

  static func start(
    executable: String, arguments: [String], environment: [String: String], stdoutFile: String,
    stderrFile: String
  ) throws -> AccountProcess {
    let output = try openForAppending(stdoutFile)
    defer { close(output) }
    let errors = try openForAppending(stderrFile)
    defer { close(errors) }
    let environ = environment.map { strdup($0.key + "=" + $0.value) } + [nil]
    defer { environ.forEach { free($0) } }
    switch ChildSpawn.start(executable, arguments: arguments, environment: environ, stdout: output, stderr: errors) {
    case .success(let pid): return AccountProcess(pid: pid)
    case .failure(let error):
      throw ConfigurationError(
        what: "mailferry executable \(executable)", problem: "could not be started: \(error.reason)",
        fix: "pass --executable with the path of the mailferry binary")
    }
  }

  /// Blocks until the child has ended, without reaping it: until `reap`, its pid cannot be
  /// reused, so a stop request sent meanwhile cannot reach another process. Call it from a
  /// thread of its own, never from a task.
  func waitForEnd() {
    var info = siginfo_t()
    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
  }

  /// Collects the ended child's status.
  func reap() -> Ending {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .killedBySignal(status & 0x7f)
  }

  /// Asks the child to stop after committing what it has in flight.
  func requestStop() { kill(pid, SIGTERM) }

  private static func openForAppending(_ path: String) throws -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw ConfigurationError(
        what: "batch log \(path)", problem: "cannot be opened: \(String(cString: strerror(errno)))",
        fix: "check that the state directory is writable")
    }
    return fd
  }
}
