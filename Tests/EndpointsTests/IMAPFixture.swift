import Foundation
import IMAPEndpoint
import ServerFixtures
import Transport

/// A fresh Dovecot user and ways to reach it.
struct IMAPFixture {
  let server: DovecotServer
  let user: DovecotServer.User

  init(prefix: String = "imap") throws {
    server = try DovecotServer.shared()
    user = try server.createUser(prefix)
  }

  func account(
    security: IMAPAccount.Security = .implicitTLS, compress: Bool = true, timeout: Duration = .seconds(20)
  )
    -> IMAPAccount
  {
    IMAPAccount(
      host: server.host, port: security == .implicitTLS ? server.imapsPort : server.imapPort, user: user.name,
      security: security, tls: TLSOptions(caFile: server.caFile), compress: compress, timeout: timeout)
  }

  /// A logged-in client.
  func client(
    security: IMAPAccount.Security = .implicitTLS, compress: Bool = true, trace: ProtocolTrace? = nil
  ) throws -> IMAPClient {
    let client = try IMAPClient.connect(account(security: security, compress: compress), trace: trace)
    try client.login(.password(user.password))
    try client.startCompressionIfOffered()
    return client
  }

  static func message(
    _ number: Int, subject: String = "Test", body: String = "Hello", extraHeaders: String = ""
  )
    -> [UInt8]
  {
    Array(
      ("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: \(subject) \(number)\r\n"
        + "Message-ID: <msg-\(number)-\(UUID().uuidString)@example.org>\r\nDate: Tue, 5 Mar 2024 14:07:09 +0100\r\n"
        + extraHeaders + "\r\n\(body) \(number)\r\n").utf8)
  }
}
