import Foundation
import MailCore
import SMTPCodec
import SMTPEndpoint
import Transport

/// Turns an `smtp://`, `smtps://` or `lmtp://` URL, the envelope options and the common
/// options into an injection target. A user in the URL means AUTH; without one, no login.
struct SMTPSessionOptions {
  static let options: [CommandSpec.Option] = [
    .init(
      name: "rcpt", valueName: "ADDRESS", help: "SMTP/LMTP target: deliver every message to ADDRESS (repeatable).",
      repeatable: true),
    .init(name: "mail-from", valueName: "ADDRESS", help: "SMTP/LMTP target: envelope sender (default: Return-Path)."),
    .init(
      name: "null-sender", valueName: nil,
      help: "SMTP/LMTP target: send messages without Return-Path from the null sender <>."),
    .init(
      name: "defer-retries", valueName: "N",
      help: "SMTP/LMTP target: retry recipients that got a 4xx N times (default 3)."),
    .init(
      name: "defer-wait", valueName: "SECONDS",
      help: "SMTP/LMTP target: first pause before such a retry, doubled each time (default 10)."),
    .init(
      name: "delivery-sessions", valueName: "N",
      help:
        "SMTP/LMTP target: messages delivered at once, each in its own session (default 4, at most the "
        + "provider's connection limit)."),
  ]

  let server: ServerOptions
  private(set) var account: SMTPAccount
  let recipients: [String]
  let sender: SMTPSink.Sender
  let retryDelays: [Duration]
  var url: ServerURL { server.url }

  init(
    _ urlText: String, arguments: ParsedArguments, command: String, side: String? = nil,
    soleServer: Bool = false, sharedTrace: ProtocolTrace? = nil, forDelivery: Bool = true
  ) throws {
    server = try ServerOptions(
      urlText, arguments: arguments, command: command, side: side, soleServer: soleServer, sharedTrace: sharedTrace,
      accepting: [.smtp, .smtps, .lmtp], example: "smtps://host, smtp://host (STARTTLS) or lmtp://host:24",
      userRequired: false)
    let url = server.url
    let security: SMTPAccount.Security =
      switch url.scheme {
      case .smtps: .implicitTLS
      case .lmtp: .startTLSIfOffered
      default: .startTLS
      }
    account = SMTPAccount(
      dialect: url.scheme == .lmtp ? .lmtp : .smtp, host: url.host, port: url.port,
      user: server.user.isEmpty ? nil : server.user, security: security, tls: server.tls,
      allowPlaintext: arguments.flag("allow-plaintext"), timeout: server.readTimeout,
      connectTimeout: server.connectTimeout)
    if let method = server.loginMethod {
      guard let parsed = SMTPAccount.LoginMethod(rawValue: method.lowercased()) else {
        throw UsageError(command: command, message: "SMTP login method is auto, plain or login, not '\(method)'")
      }
      account.loginMethod = parsed
    }
    recipients = arguments.values("rcpt")
    guard !recipients.isEmpty || !forDelivery else {
      throw UsageError(command: command, message: "\(url.scheme.rawValue):// needs at least one --rcpt ADDRESS")
    }
    for address in recipients + [arguments.value("mail-from")].compactMap({ $0 }) where !Self.isAddress(address) {
      throw UsageError(command: command, message: "'\(address)' is not a mail address")
    }
    if let from = arguments.value("mail-from") {
      sender = .fixed(from)
    } else {
      sender = .returnPath(orNull: arguments.flag("null-sender"))
    }
    let retries = Int(try arguments.number("defer-retries", default: 3, command: command))
    let wait = try arguments.number("defer-wait", default: 10, command: command)
    retryDelays = (0..<retries).map { .milliseconds(Int(wait * 1000) << $0) }
  }

  /// `local@domain` without spaces, angle brackets or control characters (the brackets
  /// are added on the wire).
  static func isAddress(_ text: String) -> Bool { EnvelopeAddress.isValid(text) }

  func credential(console: Console) throws -> CredentialSource? {
    server.user.isEmpty ? nil : try server.credential(console: console)
  }

  func connect(console: Console) throws -> SMTPClient {
    server.warnIfInsecure(console)
    let client = try SMTPClient.connect(account, trace: server.trace, label: server.side)
    if client.tlsInfo == nil && account.dialect == .smtp {
      console.warning("\(client.peer): the connection is not encrypted (--allow-plaintext)")
    }
    return client
  }

  func openSession(console: Console, credential: CredentialSource?) throws -> SMTPClient {
    let client = try connect(console: console)
    do {
      if let credential { try client.login(using: credential) }
      return client
    } catch {
      client.close()
      throw error
    }
  }

  func sink(_ client: SMTPClient) -> SMTPSink {
    SMTPSink(client, recipients: recipients, sender: sender, retryDelays: retryDelays)
  }
}
