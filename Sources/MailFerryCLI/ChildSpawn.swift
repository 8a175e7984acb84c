import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Starts the programs MailFerry runs (password and token commands, a batch's accounts) the
/// same way: in a process group of their own (a Ctrl-C at the terminal reaches MailFerry,
/// which decides what to pass on), with no blocked signals and default handlers (MailFerry
/// ignores SIGPIPE, and ignored signals would be inherited across exec), standard input
/// from /dev/null, and standard output and error on the given descriptors.
enum ChildSpawn {
  /// Returns the child's pid, or the `posix_spawn` error number.
  static func start(
    _ executable: String, arguments: [String], environment: [UnsafeMutablePointer<CChar>?], stdout: Int32,
    stderr: Int32
  ) -> Result<pid_t, SpawnError> {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, stdout, 1)
    posix_spawn_file_actions_adddup2(&actions, stderr, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var environ = environment
    var pid: pid_t = 0
    let status = posix_spawn(&pid, executable, &actions, &attributes, argv, &environ)
    return status == 0 ? .success(pid) : .failure(SpawnError(code: status))
  }

  struct SpawnError: Error {
    let code: Int32
    var reason: String { String(cString: strerror(code)) }
  }
}
