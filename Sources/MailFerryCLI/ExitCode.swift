import MailCore

/// Exit statuses, fixed so scripts and cron jobs can act on them: the codes of BSD's
/// sysexits.h where one fits, declared in ascending order (help and the man page list
/// `allCases` as they come). docs/cli.md lists them; change both together.
public enum ExitCode: Int32, Sendable, CaseIterable {
  /// Everything that should move moved.
  case success = 0
  /// The job ran, but some messages or folders did not move; the report lists them.
  case partial = 1
  /// The command line was wrong (EX_USAGE).
  case usage = 64
  /// A job file or the input data is wrong: a broken accounts list, an unreadable mbox
  /// (EX_DATAERR).
  case dataError = 65
  /// A server could not be reached or refused service: connection refused, no such host,
  /// an untrusted certificate, a protocol the server does not speak (EX_UNAVAILABLE).
  case unavailable = 69
  /// A local file could not be read or written: disk full, permission denied (EX_IOERR).
  case ioError = 74
  /// Nothing is wrong but it must wait: another run holds the lock, a provider's limit was
  /// reached, the server throttled past --max-wait. Run again later (EX_TEMPFAIL).
  case temporary = 75
  /// The server refused the credentials or the account may not do this (EX_NOPERM).
  case noPermission = 77
  /// The configuration is wrong: a missing password, a bad option value, an unusable
  /// profile (EX_CONFIG).
  case configuration = 78
  /// Stopped by Ctrl-C or SIGTERM after committing the batches in flight (128 + SIGINT).
  case interrupted = 130

  /// How bad a status is, for a batch whose status is its worst account's. A person must
  /// act on the higher ones; "run again later" and "some messages failed" rank below
  /// anything that stops a job outright.
  var severity: Int {
    switch self {
    case .success: return 0
    case .partial: return 1
    case .temporary: return 2
    case .unavailable: return 3
    case .ioError: return 4
    case .dataError: return 5
    case .configuration: return 6
    case .noPermission: return 7
    case .usage: return 8
    case .interrupted: return 9
    }
  }

  /// What the status means, in a few words (`--help`, reports; docs/cli.md has the same
  /// table with examples).
  var meaning: String {
    switch self {
    case .success: return "everything that should move moved"
    case .partial: return "the job ran, some messages or folders did not move (the report lists them)"
    case .usage: return "the command line is wrong"
    case .dataError: return "a job file or the input data is wrong (a damaged archive, a broken mbox)"
    case .unavailable: return "a server could not be reached or refused service"
    case .ioError: return "a local file could not be read or written (disk full, permissions)"
    case .temporary: return "temporary: another run holds the lock, a provider limit or throttling; run again later"
    case .noPermission: return "authentication failed or is not permitted"
    case .configuration: return "the configuration is wrong (a missing password, a bad option value)"
    case .interrupted: return "interrupted by Ctrl-C or SIGTERM; run again to finish"
    }
  }

  /// The EXIT STATUS section of `--help`.
  static var helpLines: [String] {
    ["EXIT STATUS:"]
      + allCases.map {
        "  " + String($0.rawValue).padding(toLength: 5, withPad: " ", startingAt: 0) + $0.meaning
      }
  }

  /// The worst of several statuses (success for none).
  static func worst(_ codes: some Sequence<ExitCode>) -> ExitCode {
    codes.max { $0.severity < $1.severity } ?? .success
  }
}

extension ExitCode {
  /// The status of a job stopped by a failure of this kind.
  init(_ kind: FailureKind) {
    switch kind {
    case .credentials: self = .noPermission
    case .serverUnavailable: self = .unavailable
    case .localIO: self = .ioError
    case .configuration: self = .configuration
    case .inputData: self = .dataError
    case .tryLater: self = .temporary
    case .other: self = .partial
    }
  }

  /// The status of a command that stopped by throwing `error`.
  init(stoppedBy error: any Error) {
    self.init(ErrorClass.kind(of: error))
  }
}
