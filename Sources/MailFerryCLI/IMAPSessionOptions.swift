import Foundation
import IMAPEndpoint
import MailCore
import Transport

/// Turns a URL and the common options into a logged-in IMAP session.
struct IMAPSessionOptions {
  let server: ServerOptions
  private(set) var account: IMAPAccount
  var url: ServerURL { server.url }
  var trace: ProtocolTrace? { server.trace }
  var side: String? { server.side }

  init(
    _ urlText: String, arguments: ParsedArguments, command: String, side: String? = nil,
    soleServer: Bool = false, sharedTrace: ProtocolTrace? = nil
  ) throws {
    server = try ServerOptions(
      urlText, arguments: arguments, command: command, side: side, soleServer: soleServer, sharedTrace: sharedTrace,
      accepting: [.imap, .imaps], example: "imaps://user@host (or imap:// for STARTTLS)")
    let url = server.url
    account = IMAPAccount(
      host: url.host, port: url.port, user: server.user, security: url.scheme == .imaps ? .implicitTLS : .startTLS,
      tls: server.tls, allowPlaintext: arguments.flag("allow-plaintext"),
      compression: try Self.compression(arguments, command: command),
      timeout: server.readTimeout, connectTimeout: server.connectTimeout)
    if let method = server.loginMethod {
      guard let parsed = IMAPAccount.LoginMethod(rawValue: method.lowercased()) else {
        throw UsageError(
          command: command, message: "IMAP login method is auto, plain or login, not '\(method)'")
      }
      account.loginMethod = parsed
    }
  }

  /// `--compress`, `--no-compress`, else automatic (on once the link proves slow).
  static func compression(_ arguments: ParsedArguments, command: String) throws -> IMAPAccount.Compression {
    switch (arguments.flag("compress"), arguments.flag("no-compress")) {
    case (true, true):
      throw UsageError(command: command, message: "'--compress' and '--no-compress' cannot be used together")
    case (true, false): return .always
    case (false, true): return .never
    case (false, false): return .automatic
    }
  }

  func credential(console: Console) throws -> CredentialSource { try server.credential(console: console) }

  /// Connects (STARTTLS as the scheme says) and warns about weakened security.
  func connect(console: Console) throws -> IMAPClient {
    server.warnIfInsecure(console)
    let client = try IMAPClient.connect(account, trace: trace, label: side ?? "imap")
    if client.tlsInfo == nil {
      console.warning("\(client.peer): the connection is not encrypted (--allow-plaintext)")
    }
    return client
  }

  /// Connects, logs in, turns on compression and the extensions MailFerry uses.
  func openSession(console: Console, credential given: CredentialSource? = nil) throws -> IMAPClient {
    let credential = try given ?? credential(console: console)
    let client = try connect(console: console)
    do {
      try client.login(using: credential)
      try client.startCompressionIfOffered()
      try client.enable(["CONDSTORE", "UTF8=ACCEPT"])
      return client
    } catch {
      client.close()
      throw error
    }
  }
}
