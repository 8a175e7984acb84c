import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import SMTPCodec
import SMTPEndpoint
import ServerFixtures
import Testing
import Transport

/// The SMTP client against the private Postfix (relaying into the private Dovecot).
@Suite struct SMTPSessionTests {
  let postfix: PostfixServer
  let user: DovecotServer.User

  init() throws {
    postfix = try PostfixServer.shared()
    user = try postfix.dovecot.createUser("smtp")
  }

  func account(
    _ method: SMTPAccount.LoginMethod = .automatic, security: SMTPAccount.Security = .implicitTLS
  )
    -> SMTPAccount
  {
    var account = SMTPAccount(
      dialect: .smtp, host: postfix.host, port: security == .implicitTLS ? postfix.smtpsPort : postfix.smtpPort,
      user: user.name, security: security, tls: TLSOptions(caFile: postfix.caFile), timeout: .seconds(20))
    account.loginMethod = method
    return account
  }

  /// A logged-in session. A `454 Temporary authentication failure` (Postfix losing its link
  /// to Dovecot's auth service on a loaded machine) is tried again, as a client should.
  func loggedIn(_ account: SMTPAccount, _ credential: Credential) throws -> SMTPClient {
    var attempt = 0
    while true {
      let client = try SMTPClient.connect(account)
      do {
        try client.login(credential)
        return client
      } catch let error as SMTPError where error.isTemporary && attempt < 5 {
        client.close()
        attempt += 1
        usleep(500_000)
      }
    }
  }

  func inbox() throws -> [[UInt8]] {
    try postfix.waitForEmptyQueue(timeout: 30)
    let client = try IMAPClient.connect(
      IMAPAccount(
        host: postfix.dovecot.host, port: postfix.dovecot.imapsPort, user: user.name,
        tls: TLSOptions(caFile: postfix.caFile)))
    defer { client.logout() }
    try client.login(.password(user.password))
    try client.select(MailboxName("INBOX"), readOnly: true)
    let uids = try client.uidSearch(.all)
    return uids.isEmpty ? [] : try client.fetchMessages(uids).map(\.bytes)
  }

  @Test func everyLoginMethodAndAWrongPassword() throws {
    for (method, expected) in [(SMTPAccount.LoginMethod.automatic, "AUTH PLAIN"), (.login, "AUTH LOGIN")] {
      let client = try loggedIn(account(method), .password(user.password))
      #expect(client.loginMethodUsed == expected)
      client.quit()
    }
    let oauth = try loggedIn(account(), .oauth2Token(try postfix.dovecot.oauthToken(for: user.name)))
    #expect(oauth.loginMethodUsed?.hasPrefix("AUTH O") == true || oauth.loginMethodUsed == "AUTH XOAUTH2")
    oauth.quit()
    let wrong = try SMTPClient.connect(account(security: .startTLS))
    defer { wrong.close() }
    #expect(wrong.tlsInfo != nil)
    #expect {
      try wrong.login(.password("wrong"))
    } throws: { error in
      guard case SMTPError.authenticationFailed(_, _, let reply) = error else { return false }
      return reply.code == 535
    }
  }

  /// Without PIPELINING and CHUNKING: one command at a time and DATA with dot-stuffing.
  @Test func dataWithDotStuffingDeliversTheExactBytes() throws {
    let client = try loggedIn(account(), .password(user.password))
    defer { client.quit() }
    client.withholdExtension("PIPELINING")
    client.withholdExtension("CHUNKING")
    let message = Array(
      "Return-Path: <a@example.org>\r\nSubject: dots\r\n\r\n.\r\n..\r\n.leading\r\nend\r\n".utf8)
    let delivery = try client.send(message, from: "a@example.org", to: [PostfixServer.address(of: user.name)])
    #expect(delivery.delivered == [PostfixServer.address(of: user.name)])
    let received = try #require(try inbox().first)
    #expect(Array(received.suffix(message.count)) == message)
  }

  @Test func perRecipientRepliesWithPipelining() throws {
    let client = try loggedIn(account(), .password(user.password))
    defer { client.quit() }
    let delivery = try client.send(
      Array("Subject: three\r\n\r\nbody\r\n".utf8), from: "a@example.org",
      to: [
        PostfixServer.address(of: user.name), PostfixServer.permanentlyRefusedRecipient,
        PostfixServer.temporarilyRefusedRecipient,
      ])
    #expect(delivery.delivered == [PostfixServer.address(of: user.name)])
    #expect(delivery.permanentFailures.map(\.recipient) == [PostfixServer.permanentlyRefusedRecipient])
    #expect(delivery.transientFailures == [PostfixServer.temporarilyRefusedRecipient])
    // The session goes on after refusals.
    try client.noop()
    #expect(try inbox().count == 1)
  }

  @Test func eightBitBodiesArriveUnchanged() throws {
    let client = try SMTPClient.connect(account())
    defer { client.quit() }
    #expect(client.extensions.has("8BITMIME"))
    let message = Array(
      "Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, Ærø, 日本\r\n"
        .utf8)
    for chunking in [true, false] {
      if !chunking { client.withholdExtension("CHUNKING") }
      let delivery = try client.send(message, from: "a@example.org", to: [PostfixServer.address(of: user.name)])
      #expect(delivery.delivered.count == 1, "chunking \(chunking): \(delivery.replies)")
    }
    let received = try inbox()
    #expect(received.count == 2)
    #expect(received.allSatisfy { Array($0.suffix(message.count)) == message })
  }

  @Test func tooLargeIsRefusedLocally() throws {
    let client = try SMTPClient.connect(account())
    defer { client.quit() }
    #expect(client.extensions.sizeLimit == postfix.messageSizeLimit)
    let huge = [UInt8](repeating: UInt8(ascii: "x"), count: postfix.messageSizeLimit + 1)
    let delivery = try client.send(huge, from: "a@example.org", to: [PostfixServer.address(of: user.name)])
    #expect(delivery.permanentFailures.first?.reply.code == 552)
    #expect(delivery.permanentFailures.first?.reply.text.contains("not sent") == true)
  }
}
