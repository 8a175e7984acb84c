import Endpoints
import Engine
import Foundation
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
    ]

  let sourceURL: ServerURL
  let targetURL: ServerURL
  /// The source as the engine reads it (IMAP or POP3).
  let connectSource: Migration.ConnectSource
  /// The target as the engine writes it (IMAP, or SMTP/LMTP injection).
  let connectTarget: Migration.ConnectSink
  /// Both sides as IMAP sessions, for `verify`; nil when either is not IMAP.
  let connectSourceIMAP: Verification.Connect?
  let connectTargetIMAP: Verification.Connect?

  init(_ arguments: ParsedArguments, command: String, console: Console) throws {
    let trace = try arguments.value("trace").map { try ProtocolTrace(path: $0) }
    let silent = Console(out: { _ in }, err: { _ in }, isTerminal: false)
    let sourceText = arguments.positionals[0]
    let targetText = arguments.positionals[1]
    // Read every option and password first, then log in on each side once, so a wrong
    // password or certificate fails before any work starts.
    let sourceScheme = try ServerURL(sourceText).scheme
    let targetScheme = try ServerURL(targetText).scheme
    var logins: [() throws -> Void] = []

    if sourceScheme == .pop3 || sourceScheme == .pop3s {
      let source = try POP3SessionOptions(
        sourceText, arguments: arguments, command: command, side: "source", sharedTrace: trace)
      let credential = try source.credential(console: console)
      sourceURL = source.url
      logins.append { try source.openSession(console: console, credential: credential).logout() }
      connectSource = { POP3Source(try source.openSession(console: silent, credential: credential)) }
      connectSourceIMAP = nil
    } else {
      let source = try IMAPSessionOptions(
        sourceText, arguments: arguments, command: command, side: "source", sharedTrace: trace)
      let credential = try source.credential(console: console)
      sourceURL = source.url
      logins.append { try source.openSession(console: console, credential: credential).logout() }
      let connect: Verification.Connect = { try source.openSession(console: silent, credential: credential) }
      connectSource = { IMAPSource(try connect()) }
      connectSourceIMAP = connect
    }

    if targetScheme == .smtp || targetScheme == .smtps || targetScheme == .lmtp {
      let target = try SMTPSessionOptions(
        targetText, arguments: arguments, command: command, side: "target", sharedTrace: trace)
      let credential = try target.credential(console: console)
      targetURL = target.url
      logins.append { try target.openSession(console: console, credential: credential).quit() }
      connectTarget = { target.sink(try target.openSession(console: silent, credential: credential)) }
      connectTargetIMAP = nil
    } else {
      let target = try IMAPSessionOptions(
        targetText, arguments: arguments, command: command, side: "target", sharedTrace: trace)
      let credential = try target.credential(console: console)
      targetURL = target.url
      logins.append { try target.openSession(console: console, credential: credential).logout() }
      let connect: Verification.Connect = { try target.openSession(console: silent, credential: credential) }
      connectTarget = { IMAPSink(try connect()) }
      connectTargetIMAP = connect
    }
    for login in logins { try login() }
  }
}
