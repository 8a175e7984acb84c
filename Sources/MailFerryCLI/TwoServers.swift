import Endpoints
import Engine
import Foundation
import Transport

/// The source and target of a two-server command (migrate, verify): their URLs, options,
/// credentials, and a first login on each, so a wrong password or certificate fails before
/// any work starts.
struct TwoServers {
  static let options: [CommandSpec.Option] = [
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
  let target: IMAPSessionOptions
  /// The source as the engine reads it (IMAP or POP3).
  let connectSource: Migration.ConnectSource
  /// The source as an IMAP session, for `verify`; nil for a POP3 source.
  let connectSourceIMAP: Verification.Connect?
  let connectTarget: Verification.Connect

  init(_ arguments: ParsedArguments, command: String, console: Console) throws {
    let trace = try arguments.value("trace").map { try ProtocolTrace(path: $0) }
    let sourceText = arguments.positionals[0]
    let silent = Console(out: { _ in }, err: { _ in }, isTerminal: false)
    target = try IMAPSessionOptions(
      arguments.positionals[1], arguments: arguments, command: command, side: "target", sharedTrace: trace)
    let scheme = try ServerURL(sourceText).scheme
    if scheme == .pop3 || scheme == .pop3s {
      let source = try POP3SessionOptions(
        sourceText, arguments: arguments, command: command, side: "source", sharedTrace: trace)
      sourceURL = source.url
      let credential = try source.credential(console: console)
      let targetCredential = try target.credential(console: console)
      // A first login on each side, so a wrong password or certificate fails before any work.
      try source.openSession(console: console, credential: credential).logout()
      try target.openSession(console: console, credential: targetCredential).logout()
      connectSource = { POP3Source(try source.openSession(console: silent, credential: credential)) }
      connectSourceIMAP = nil
      let target = target
      connectTarget = { try target.openSession(console: silent, credential: targetCredential) }
    } else {
      let source = try IMAPSessionOptions(
        sourceText, arguments: arguments, command: command, side: "source", sharedTrace: trace)
      sourceURL = source.url
      let credential = try source.credential(console: console)
      let targetCredential = try target.credential(console: console)
      let firstSource = try source.openSession(console: console, credential: credential)
      defer { firstSource.logout() }
      try target.openSession(console: console, credential: targetCredential).logout()
      let connectIMAP: Verification.Connect = { try source.openSession(console: silent, credential: credential) }
      connectSourceIMAP = connectIMAP
      connectSource = { IMAPSource(try connectIMAP()) }
      let target = target
      connectTarget = { try target.openSession(console: silent, credential: targetCredential) }
    }
  }
}
