import Foundation

/// How far a failure reaches, so the engine knows what to stop and what goes on.
public enum FailureScope: Int, Sendable, Comparable, CustomStringConvertible {
  /// One message: the rest of its folder goes on.
  case message
  /// One folder: the job's other folders go on.
  case folder
  /// The session: it is dropped, and a new one may do better.
  case connection
  /// The whole job: nothing more can be done in this run (a wrong password, an untrusted
  /// certificate, a full disk, a bad option).
  case job

  public static func < (lhs: FailureScope, rhs: FailureScope) -> Bool { lhs.rawValue < rhs.rawValue }

  public var description: String {
    switch self {
    case .message: return "message"
    case .folder: return "folder"
    case .connection: return "connection"
    case .job: return "job"
    }
  }
}

/// What kind of trouble a failure is, so that a script or a scheduler can tell "the
/// password is wrong" from "another run holds the lock" (the CLI makes it the exit status).
public enum FailureKind: String, Sendable, Equatable {
  /// The server refused the credentials, or the account may not do this.
  case credentials
  /// A server could not be reached, spoke something else, or refused service.
  case serverUnavailable = "server-unavailable"
  /// A local file could not be read or written: disk full, permissions, a read-only file system.
  case localIO = "local-io"
  /// The configuration is wrong: a missing password, a bad option value or profile.
  case configuration
  /// The input data is wrong: a damaged archive, a broken mbox, a job file or accounts list.
  case inputData = "input-data"
  /// Nothing is wrong, but it must wait: a lock held by another run, a provider's limit,
  /// throttling past the job's wait budget.
  case tryLater = "try-later"
  /// Anything else: the job ran, and something in it did not move.
  case other
}

/// Every error MailFerry reports: what failed, what to do, how far it reaches and whether
/// trying again later can help.
///
/// `description` is one line naming the thing and what failed, safe to print (never a
/// password, token or message data); `hint` says what to do about it. The CLI prints
/// them as `error: <description>` and `hint: <hint>`. The engine decides from `scope` and
/// `isTemporary` alone whether to reconnect and retry, give up on a folder or stop the job;
/// it never looks at which protocol failed.
public protocol UserFacingError: Error, CustomStringConvertible {
  var hint: String? { get }
  var scope: FailureScope { get }
  /// True when the same step may succeed later without anyone changing anything (a
  /// dropped connection, a busy maildrop, a server asking to be tried again); false when
  /// it needs the user or will fail the same way every time (a refused name, a wrong
  /// password, a full disk).
  var isTemporary: Bool { get }
  /// True when the server is throttling this client (a rate or connection limit, "try
  /// later" as policy): the engine waits with backoff and goes on, within the job's wait
  /// budget, without using up a folder's ordinary retries. Implies `isTemporary`.
  var isThrottling: Bool { get }
  /// How long the server asked to be left alone, when it said (POP3 LOGIN-DELAY).
  var suggestedDelay: Duration? { get }
  /// What kind of trouble this is; by default "try later" for throttling, "server
  /// unavailable" for other temporary failures (a dropped or silent connection), else other.
  var kind: FailureKind { get }
}

extension UserFacingError {
  public var hint: String? { nil }
  public var isThrottling: Bool { false }
  public var suggestedDelay: Duration? { nil }
  public var kind: FailureKind { isThrottling ? .tryLater : isTemporary ? .serverUnavailable : .other }
}

/// The scope and permanence of any error: those of a `UserFacingError`, else (an error
/// MailFerry did not expect) one folder, permanent.
public enum ErrorClass {
  public static func scope(of error: any Error) -> FailureScope {
    (error as? any UserFacingError)?.scope ?? .folder
  }

  public static func isTemporary(_ error: any Error) -> Bool {
    (error as? any UserFacingError)?.isTemporary ?? false
  }

  public static func isThrottling(_ error: any Error) -> Bool {
    (error as? any UserFacingError)?.isThrottling ?? false
  }

  /// The kind of any error: a `UserFacingError`'s own; a file system error from Foundation
  /// is local I/O; anything else is other.
  public static func kind(of error: any Error) -> FailureKind {
    if let error = error as? any UserFacingError { return error.kind }
    if error is POSIXError { return .localIO }
    if let error = error as? CocoaError, error.isFileError { return .localIO }
    return .other
  }

  public static func suggestedDelay(of error: any Error) -> Duration? {
    (error as? any UserFacingError)?.suggestedDelay
  }

  /// The hint to print for a failure: its own, or for a temporary one "run again".
  public static func hint(for error: any Error) -> String? {
    if let error = error as? any UserFacingError {
      if let hint = error.hint { return hint }
      return error.isTemporary ? "run the same command again: the job resumes from its checkpoint" : nil
    }
    return nil
  }
}
