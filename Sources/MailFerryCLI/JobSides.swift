import Archive
import Engine
import Foundation
import MailCore
import Providers
import Storage
import Transport

/// The two sides of a job (migrate, backup, restore, import, export) or of `verify`: what
/// each is, how the engine connects to it, and a first login on each, so a wrong password
/// or certificate fails before any work starts.
struct JobSides {
  static let options: [CommandSpec.Option] =
    SMTPSessionOptions.options + [
      .init(name: "source-password-file", valueName: "FILE", help: "Source password from FILE's first line."),
      .init(name: "source-password-command", valueName: "CMD", help: "Source password from CMD's first line."),
      .init(
        name: "source-oauth-token-command", valueName: "CMD",
        help: "OAuth2 token for the source from CMD, run at every login."),
      .init(name: "target-password-file", valueName: "FILE", help: "Target password from FILE's first line."),
      .init(name: "target-password-command", valueName: "CMD", help: "Target password from CMD's first line."),
      .init(
        name: "target-oauth-token-command", valueName: "CMD",
        help: "OAuth2 token for the target from CMD, run at every login."),
      .init(
        name: "password-file", valueName: "FILE",
        help: "When only one side is a server (backup, restore): its password from FILE."),
      .init(name: "password-command", valueName: "CMD", help: "When only one side is a server: its password from CMD."),
      .init(
        name: "oauth-token-command", valueName: "CMD",
        help: "When only one side is a server: its OAuth2 token from CMD."),
      .init(
        name: "oauth-token-timeout", valueName: "SECONDS",
        help: "Stop a token command that has printed no token after SECONDS (default 60)."),
      .init(name: "ca-file", valueName: "FILE", help: "Trust the CA certificates in FILE (both servers)."),
      .init(name: "source-ca-file", valueName: "FILE", help: "Trust the CA certificates in FILE for the source."),
      .init(name: "target-ca-file", valueName: "FILE", help: "Trust the CA certificates in FILE for the target."),
      .init(name: "insecure", valueName: nil, help: "Do not verify certificates (encrypted, open to interception)."),
      .init(name: "allow-plaintext", valueName: nil, help: "Allow imap:// and pop3:// without STARTTLS / STLS."),
      .init(
        name: "compress", valueName: nil,
        help: "Use COMPRESS=DEFLATE from the login on (default: only once a link proves slow)."),
      .init(name: "no-compress", valueName: nil, help: "Do not use COMPRESS=DEFLATE."),
      .init(
        name: "login-method", valueName: "METHOD",
        help: "auto (default); IMAP: plain or login; POP3: plain, user or apop.", choices: LoginMethods.all),
      .init(
        name: "source-login-method", valueName: "METHOD", help: "--login-method for the source only.",
        choices: LoginMethods.all),
      .init(
        name: "target-login-method", valueName: "METHOD", help: "--login-method for the target only.",
        choices: LoginMethods.all),
      .init(name: "timeout", valueName: "SECONDS", help: "Give up on a silent server after SECONDS (default 60)."),
      .init(name: "trace", valueName: "FILE", help: "Append a redacted protocol trace of both servers to FILE."),
      .init(
        name: "source-profile", valueName: "NAME",
        help: "Provider profile for the source (default: from gmail:USER or the host)."),
      .init(
        name: "target-profile", valueName: "NAME",
        help: "Provider profile for the target: its limits and folder names become the job's."),
      .init(
        name: "compression", valueName: "LEVEL",
        help: "Archive targets: gzip level, 1 (fast) to 9 (small); default 6."),
    ]

  /// Whether `name` configures only the server on `side` ("source" or "target"):
  /// `--target-ca-file`, and for the target the SMTP/LMTP envelope options. A command whose
  /// side is never a server (backup's archive target, restore's archive source) leaves them
  /// out of its options.
  static func isServerOption(_ name: String, of side: String) -> Bool {
    name.hasPrefix("\(side)-") || (side == "target" && SMTPSessionOptions.options.contains { $0.name == name })
  }

  let source: JobEndpoint
  let target: JobEndpoint
  /// The provider profiles that apply to each side (`ProfileChoice`), nil for none.
  let sourceProfile: Profile?
  let targetProfile: Profile?
  /// The source as the engine reads it (IMAP, POP3, an archive, a local store).
  let connectSource: Migration.ConnectSource
  /// The target as a job writes it; nil when it is opened for reading (`verify`).
  let connectTarget: Migration.ConnectSink?
  /// The target read as a source (`verify`); nil when a job writes it.
  let connectTargetForReading: Migration.ConnectSource?
  /// Held while the job reads or writes an archive, so two runs never write to it at once
  /// and a reindex never replaces the catalog under a run (taken by `connect`).
  private(set) var archiveLocks: [ExclusiveLock] = []
  private let targetRole: StoreOpener.Role
  private let logins: [() throws -> Void]

  /// Reads both sides' options and credentials; nothing is connected yet, so a command
  /// can still refuse options that do not apply before anything happens. `source` and
  /// `target` default to the first two positional arguments. `targetRole` is `.writing`
  /// for a job and `.reading` for `verify`.
  init(
    _ arguments: ParsedArguments, command: String, console: Console, source givenSource: String? = nil,
    target givenTarget: String? = nil, targetRole: StoreOpener.Role = .writing
  ) throws {
    let trace = try arguments.value("trace").map { try ProtocolTrace(path: $0) }
    let sourceText = givenSource ?? arguments.positionals[0]
    let targetText = givenTarget ?? arguments.positionals[1]
    source = try JobEndpoint.parse(sourceText)
    target = try JobEndpoint.parse(targetText)
    sourceProfile = try source.serverURL.flatMap {
      try ProfileChoice.resolve($0, side: "source", arguments: arguments)
    }
    targetProfile = try target.serverURL.flatMap {
      try ProfileChoice.resolve($0, side: "target", arguments: arguments)
    }
    let context = StoreOpener.Context(
      arguments: arguments, command: command, console: console,
      soleServer: source.serverURL == nil || target.serverURL == nil, trace: trace)

    self.targetRole = targetRole
    self.command = command
    let sourceSide = try StoreOpener.open(source, text: sourceText, side: "source", role: .reading, context: context)
    let targetSide = try StoreOpener.open(target, text: targetText, side: "target", role: targetRole, context: context)
    connectSource = sourceSide.connectSource!
    connectTarget = targetSide.connectSink
    connectTargetForReading = targetSide.connectSource
    logins = [sourceSide.check, targetSide.check].compactMap { $0 }
  }

  private let command: String

  /// Locks the archives the job reads, logs in on each server once (a wrong password or
  /// certificate fails here, before any work), then locks and creates an archive target:
  /// a new one only now, so a wrong password leaves nothing behind.
  mutating func connect(waits: ThrottleWaits? = nil) throws {
    var locks: [ExclusiveLock] = []
    if case .archive(let path) = source {
      locks += try Archive.lock(path: path, purpose: command, mode: .reading)
    }
    if case .archive(let path) = target, targetRole == .reading {
      locks += try Archive.lock(path: path, purpose: command, mode: .reading)
    }
    // An archive an earlier run wrote (its lock file is there) is locked before the logins,
    // so a second run of the same backup stops at once instead of logging in first.
    var writingLockTaken = false
    if case .archive(let path) = target, targetRole == .writing,
      FileManager.default.fileExists(atPath: ArchiveLayout(root: path).lockPath)
    {
      locks += try Archive.lock(path: path, purpose: command, mode: .writing)
      writingLockTaken = true
    }
    archiveLocks = locks
    for login in logins { try Self.retryingTransient(login, waits: waits) }
    if case .archive(let path) = target, targetRole == .writing {
      if !writingLockTaken { archiveLocks += try Archive.lock(path: path, purpose: command, mode: .writing) }
      _ = try Archive(path: path, create: true)
    }
  }

  /// What the job is, for "option … does not apply to …".
  var description: String { "a job from \(source.kindDescription) to \(target.kindDescription)" }

  /// A server that says "try again" (busy maildrop, temporary authentication failure) gets
  /// two more tries; one that throttles is waited out within the job's `--max-wait` budget
  /// (`waits`); a wrong password or certificate fails at once.
  static func retryingTransient(_ login: () throws -> Void, waits: ThrottleWaits? = nil) throws {
    var attempt = 0
    var throttled = 0
    while true {
      do {
        return try login()
      } catch  where Migration.isRetryable(error) && ErrorClass.isThrottling(error) && waits != nil {
        try waits!.pause(after: error, attempt: throttled)
        throttled += 1
      } catch  where Migration.isRetryable(error) && attempt < 2 {
        attempt += 1
        Thread.sleep(forTimeInterval: Double(attempt))
      }
    }
  }
}
