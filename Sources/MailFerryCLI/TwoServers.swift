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
    .init(name: "allow-plaintext", valueName: nil, help: "Allow imap:// without STARTTLS."),
    .init(name: "no-compress", valueName: nil, help: "Do not use COMPRESS=DEFLATE."),
    .init(name: "login-method", valueName: "METHOD", help: "auto (default), plain or login."),
    .init(name: "timeout", valueName: "SECONDS", help: "Give up on a silent server after SECONDS (default 60)."),
    .init(name: "trace", valueName: "FILE", help: "Append a redacted protocol trace of both servers to FILE."),
  ]

  let source: IMAPSessionOptions
  let target: IMAPSessionOptions
  let connectSource: Verification.Connect
  let connectTarget: Verification.Connect

  init(_ arguments: ParsedArguments, command: String, console: Console) throws {
    let trace = try arguments.value("trace").map { try ProtocolTrace(path: $0) }
    source = try IMAPSessionOptions(
      arguments.positionals[0], arguments: arguments, command: command, side: "source", sharedTrace: trace)
    target = try IMAPSessionOptions(
      arguments.positionals[1], arguments: arguments, command: command, side: "target", sharedTrace: trace)
    let sourceCredential = try source.credential(console: console)
    let targetCredential = try target.credential(console: console)
    let firstSource = try source.openSession(console: console, credential: sourceCredential)
    defer { firstSource.logout() }
    let firstTarget = try target.openSession(console: console, credential: targetCredential)
    firstTarget.logout()
    let silent = Console(out: { _ in }, err: { _ in }, isTerminal: false)
    let (source, target) = (source, target)
    connectSource = { try source.openSession(console: silent, credential: sourceCredential) }
    connectTarget = { try target.openSession(console: silent, credential: targetCredential) }
  }
}
