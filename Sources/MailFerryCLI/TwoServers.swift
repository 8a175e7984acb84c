import Archive
import Endpoints
import Engine
import Foundation
import Storage
import Transport

/// The source and target of a two-server command (migrate, verify): their URLs, options,
/// credentials, and a first login on each, so a wrong password or certificate fails before
/// any work starts.
struct TwoServers {
  static let options: [CommandSpec.Option] =
    SMTPSessionOptions.options + [
      .init(name: "source-password-file", valueName: "FILE", help: "Source password from FILE's first line."),
      .init(name: "source-password-command", valueName: "CMD", help: "Source password from CMD's first line."),
      .init(name: "source-oauth-token-command", valueName: "CMD", help: "OAuth2 token for the source from CMD."),
      .init(name: "target-password-file", valueName: "FILE", help: "Target password from FILE's first line."),
      .init(name: "target-password-command", valueName: "CMD", help: "Target password from CMD's first line."),
      .init(name: "target-oauth-token-command", valueName: "CMD", help: "OAuth2 token for the target from CMD."),
      .init(
        name: "password-file", valueName: "FILE",
        help: "When only one side is a server (backup, restore): its password from FILE."),
      .init(name: "password-command", valueName: "CMD", help: "When only one side is a server: its password from CMD."),
      .init(
        name: "oauth-token-command", valueName: "CMD",
        help: "When only one side is a server: its OAuth2 token from CMD."),
      .init(name: "ca-file", valueName: "FILE", help: "Trust the CA certificates in FILE (both servers)."),
      .init(name: "source-ca-file", valueName: "FILE", help: "Trust the CA certificates in FILE for the source."),
      .init(name: "target-ca-file", valueName: "FILE", help: "Trust the CA certificates in FILE for the target."),
      .init(name: "insecure", valueName: nil, help: "Do not verify certificates (encrypted, open to interception)."),
      .init(name: "allow-plaintext", valueName: nil, help: "Allow imap:// and pop3:// without STARTTLS / STLS."),
      .init(name: "no-compress", valueName: nil, help: "Do not use COMPRESS=DEFLATE."),
      .init(
        name: "login-method", valueName: "METHOD",
        help: "auto (default); IMAP: plain or login; POP3: plain, user or apop."),
      .init(name: "source-login-method", valueName: "METHOD", help: "--login-method for the source only."),
      .init(name: "target-login-method", valueName: "METHOD", help: "--login-method for the target only."),
      .init(name: "timeout", valueName: "SECONDS", help: "Give up on a silent server after SECONDS (default 60)."),
      .init(name: "trace", valueName: "FILE", help: "Append a redacted protocol trace of both servers to FILE."),
      .init(
        name: "compression", valueName: "LEVEL",
        help: "Archive targets: gzip level, 1 (fast) to 9 (small); default 6."),
    ]

  let source: JobEndpoint
  let target: JobEndpoint
  /// The source as the engine reads it (IMAP, POP3, an archive, a local store).
  let connectSource: Migration.ConnectSource
  /// The target as the engine writes it (IMAP, SMTP/LMTP injection, an archive, a local store).
  let connectTarget: Migration.ConnectSink
  /// Both sides as IMAP sessions, for `verify`; nil when either is not IMAP.
  private(set) var connectSourceIMAP: Verification.Connect?
  private(set) var connectTargetIMAP: Verification.Connect?
  /// Held while the job reads or writes an archive, so two runs never write to it at once
  /// and a reindex never replaces the catalog under a run.
  let archiveLocks: [ExclusiveLock]

  /// `source` and `target` default to the first two positional arguments.
  init(
    _ arguments: ParsedArguments, command: String, console: Console, source givenSource: String? = nil,
    target givenTarget: String? = nil
  ) throws {
    let trace = try arguments.value("trace").map { try ProtocolTrace(path: $0) }
    let silent = Console(out: { _ in }, err: { _ in }, isTerminal: false)
    let sourceText = givenSource ?? arguments.positionals[0]
    let targetText = givenTarget ?? arguments.positionals[1]
    source = try JobEndpoint.parse(sourceText)
    target = try JobEndpoint.parse(targetText)
    // Read every option and password first, then log in on each side once, so a wrong
    // password or certificate fails before any work starts.
    var logins: [() throws -> Void] = []
    let soleServer = source.serverURL == nil || target.serverURL == nil
    connectSourceIMAP = nil
    connectTargetIMAP = nil

    var locks: [ExclusiveLock] = []
    switch source {
    case .archive(let path):
      locks += try Archive.lock(path: path, purpose: command, mode: .reading)
      _ = try Archive(path: path, create: false)
      connectSource = { ArchiveSource(try Archive(path: path, create: false)) }
    case .local(let kind, let path):
      connectSource = try LocalStores.source(kind, path: path)
    case .server(let url) where url.scheme == .pop3 || url.scheme == .pop3s:
      let source = try POP3SessionOptions(
        sourceText, arguments: arguments, command: command, side: "source", soleServer: soleServer, sharedTrace: trace)
      let credential = try source.credential(console: console)
      logins.append { try source.openSession(console: console, credential: credential).logout() }
      connectSource = { POP3Source(try source.openSession(console: silent, credential: credential)) }
    case .server(let url) where url.scheme == .imap || url.scheme == .imaps:
      let source = try IMAPSessionOptions(
        sourceText, arguments: arguments, command: command, side: "source", soleServer: soleServer, sharedTrace: trace)
      let credential = try source.credential(console: console)
      logins.append { try source.openSession(console: console, credential: credential).logout() }
      let connect: Verification.Connect = { try source.openSession(console: silent, credential: credential) }
      connectSource = { IMAPSource(try connect()) }
      connectSourceIMAP = connect
    case .server(let url):
      throw ConfigurationError(
        what: "source '\(url.display)'", problem: "cannot be read from (\(url.scheme.rawValue) only delivers)",
        fix: "read from imap(s)://, pop3(s)://, an archive directory, maildir:PATH or mbox:PATH")
    }

    switch target {
    case .archive(let path):
      if arguments.flag("dry-run") && !Archive.exists(at: path) {
        throw ConfigurationError(
          what: "archive \(path)", problem: "does not exist yet, so a dry run has nothing to compare with",
          fix: "run without --dry-run to create it (everything in the source is new to it)")
      }
      let level = try Self.compressionLevel(arguments, command: command)
      connectTarget = {
        let archive = try Archive(path: path, create: false)
        archive.compressionLevel = level
        return ArchiveSink(archive)
      }
    case .local(let kind, let path):
      connectTarget = try LocalStores.sink(kind, path: path)
    case .server(let url) where url.scheme == .smtp || url.scheme == .smtps || url.scheme == .lmtp:
      let target = try SMTPSessionOptions(
        targetText, arguments: arguments, command: command, side: "target", soleServer: soleServer, sharedTrace: trace)
      let credential = try target.credential(console: console)
      logins.append { try target.openSession(console: console, credential: credential).quit() }
      connectTarget = { target.sink(try target.openSession(console: silent, credential: credential)) }
    case .server(let url) where url.scheme == .imap || url.scheme == .imaps:
      let target = try IMAPSessionOptions(
        targetText, arguments: arguments, command: command, side: "target", soleServer: soleServer, sharedTrace: trace)
      let credential = try target.credential(console: console)
      logins.append { try target.openSession(console: console, credential: credential).logout() }
      let connect: Verification.Connect = { try target.openSession(console: silent, credential: credential) }
      connectTarget = { IMAPSink(try connect()) }
      connectTargetIMAP = connect
    case .server(let url):
      throw ConfigurationError(
        what: "target '\(url.display)'", problem: "cannot be written to (\(url.scheme.rawValue) is read only)",
        fix: "write to imap(s)://, smtp(s)://, lmtp://, an archive directory, maildir:, mbox: or eml:PATH")
    }
    for login in logins { try Self.retryingTransient(login) }
    // An archive target is locked and created only now, so a wrong password leaves nothing.
    if case .archive(let path) = target {
      locks += try Archive.lock(path: path, purpose: command, mode: .writing)
      _ = try Archive(path: path, create: true)
    }
    archiveLocks = locks
  }

  /// A server that says "try again" (busy maildrop, temporary authentication failure) gets
  /// two more tries; a wrong password or certificate fails at once.
  static func retryingTransient(_ login: () throws -> Void) throws {
    var attempt = 0
    while true {
      do {
        return try login()
      } catch  where Migration.isRetryable(error) && attempt < 2 {
        attempt += 1
        Thread.sleep(forTimeInterval: Double(attempt))
      }
    }
  }

  /// `--compression N` (1 fast … 9 small, default 6) for archive targets.
  static func compressionLevel(_ arguments: ParsedArguments, command: String) throws -> Int32 {
    guard arguments.value("compression") != nil else { return 6 }
    let level = try arguments.count("compression", default: 6, command: command)
    guard (1...9).contains(level) else {
      throw UsageError(command: command, message: "option '--compression' takes a level from 1 to 9, not \(level)")
    }
    return Int32(level)
  }
}
