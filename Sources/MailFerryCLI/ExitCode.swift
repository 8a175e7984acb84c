/// Exit statuses, fixed so scripts and cron jobs can rely on them.
public enum ExitCode: Int32, Sendable {
  /// Everything asked for was done.
  case success = 0
  /// The job could not run or stopped: bad credentials, unreachable server, a broken file.
  case failure = 1
  /// The job ran but some messages did not move; the report lists them.
  case partial = 3
  /// Stopped by Ctrl-C or SIGTERM after committing the batches in flight (128 + SIGINT).
  case interrupted = 130
  /// The command line was wrong (as sysexits' EX_USAGE).
  case usage = 64
  /// The job stopped for something that passes (a provider's daily limit reached): run
  /// it again later (as sysexits' EX_TEMPFAIL).
  case temporary = 75
}
