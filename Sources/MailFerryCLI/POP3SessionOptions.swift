import Foundation
import MailCore
import POP3Endpoint
import Transport

/// Turns a `pop3://` / `pop3s://` URL and the common options into a logged-in POP3 session.
struct POP3SessionOptions {
  let server: ServerOptions
  private(set) var account: POP3Account
  var url: ServerURL { server.url }

  init(
    _ urlText: String, arguments: ParsedArguments, command: String, side: String? = nil,
    soleServer: Bool = false, sharedTrace: ProtocolTrace? = nil
  ) throws {
    server = try ServerOptions(
      urlText, arguments: arguments, command: command, side: side, soleServer: soleServer, sharedTrace: sharedTrace,
      accepting: [.pop3, .pop3s], example: "pop3s://user@host (or pop3:// for STLS)")
    let url = server.url
    if !url.path.isEmpty && url.path != "/" {
      throw ConfigurationError(
        what: "URL '\(urlText)'", problem: "names a folder, but a POP3 maildrop has none",
        fix: "write it like \(url.scheme)://user@\(url.host)")
    }
    account = POP3Account(
      host: url.host, port: url.port, user: server.user, security: url.scheme == .pop3s ? .implicitTLS : .startTLS,
      tls: server.tls, allowPlaintext: arguments.flag("allow-plaintext"), timeout: server.readTimeout,
      connectTimeout: server.connectTimeout)
    if let method = server.loginMethod {
      guard let parsed = POP3Account.LoginMethod(rawValue: method.lowercased()) else {
        throw UsageError(
          command: command, message: "POP3 login method is auto, plain, user or apop, not '\(method)'")
      }
      account.loginMethod = parsed
    }
  }

  func credential(console: Console) throws -> CredentialSource { try server.credential(console: console) }

  /// Connects (STLS as the scheme says) and warns about weakened security.
  func connect(console: Console) throws -> POP3Client {
    server.warnIfInsecure(console)
    let client = try POP3Client.connect(account, trace: server.trace, label: server.side ?? "pop3")
    if client.tlsInfo == nil {
      console.warning("\(client.peer): the connection is not encrypted (--allow-plaintext)")
    }
    return client
  }

  func openSession(console: Console, credential given: CredentialSource? = nil) throws -> POP3Client {
    let credential = try given ?? credential(console: console)
    let client = try connect(console: console)
    do {
      try client.login(using: credential)
      return client
    } catch {
      client.close()
      throw error
    }
  }
}
