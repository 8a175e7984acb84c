import Foundation
import IMAPCodec
import MailCore
import POP3Endpoint
import ServerFixtures
import Testing
import Transport

/// The POP3 client against the private Dovecot's POP3 service.
@Suite struct POP3SessionTests {
  let fixture: IMAPFixture

  init() throws { fixture = try IMAPFixture(prefix: "pop") }

  func account(_ security: POP3Account.Security = .implicitTLS) -> POP3Account {
    POP3Account(
      host: fixture.server.host,
      port: security == .implicitTLS ? fixture.server.pop3sPort : fixture.server.pop3Port, user: fixture.user.name,
      security: security, tls: TLSOptions(caFile: fixture.server.caFile), timeout: .seconds(20))
  }

  func client(_ account: POP3Account? = nil, trace: ProtocolTrace? = nil) throws -> POP3Client {
    let client = try POP3Client.connect(account ?? self.account(), trace: trace)
    try client.login(.password(fixture.user.password))
    return client
  }

  /// A new session once Dovecot has noticed an earlier one hang up and released the
  /// maildrop lock (a loaded machine can take a while).
  func clientOnceUnlocked() throws -> POP3Client {
    let deadline = ContinuousClock.now + .seconds(20)
    while true {
      do {
        return try client()
      } catch let error as POP3Error where error.isTemporary && ContinuousClock.now < deadline {
        usleep(100_000)
      }
    }
  }

  /// Puts messages into INBOX over IMAP and returns their bytes in order.
  func deliver(_ messages: [[UInt8]]) throws {
    let imap = try fixture.client()
    defer { imap.logout() }
    try imap.append(messages.map { MessageToStore(bytes: $0) }, to: MailboxName("INBOX"))
  }

  @Test func stlsAndImplicitTLSWithEveryLoginMethod() throws {
    var startTLS = account(.startTLS)
    startTLS.loginMethod = .user
    let upgraded = try POP3Client.connect(startTLS)
    #expect(upgraded.tlsInfo != nil)
    #expect(upgraded.capabilitiesBeforeLogin.contains("STLS") == false)  // read again after STLS
    try upgraded.login(.password(fixture.user.password))
    #expect(upgraded.loginMethodUsed == "USER/PASS")
    upgraded.logout()

    let plain = try POP3Client.connect(account())
    try plain.login(.password(fixture.user.password))
    #expect(plain.loginMethodUsed == "AUTH PLAIN")
    #expect(plain.has("UIDL") && plain.has("PIPELINING"))
    plain.logout()

    var apop = account()
    apop.loginMethod = .apop
    let challenged = try POP3Client.connect(apop)
    try challenged.login(.password(fixture.user.password))
    #expect(challenged.loginMethodUsed == "APOP")
    challenged.logout()
    let wrongAPOP = try POP3Client.connect(apop)
    defer { wrongAPOP.close() }
    #expect {
      try wrongAPOP.login(.password("wrong"))
    } throws: { error in
      if case POP3Error.authenticationFailed = error { return true }
      return false
    }

    let token = try fixture.server.oauthToken(for: fixture.user.name)
    let oauth = try POP3Client.connect(account())
    try oauth.login(.oauth2Token(token))
    #expect(oauth.loginMethodUsed?.hasPrefix("AUTH O") == true || oauth.loginMethodUsed == "AUTH XOAUTH2")
    oauth.logout()
  }

  @Test func wrongPasswordIsAnAuthenticationError() throws {
    for method in [POP3Account.LoginMethod.automatic, .user] {
      var account = account()
      account.loginMethod = method
      let client = try POP3Client.connect(account)
      defer { client.close() }
      #expect {
        try client.login(.password("wrong"))
      } throws: { error in
        guard case POP3Error.authenticationFailed(_, let user, _) = error else { return false }
        return user == fixture.user.name
      }
    }
  }

  @Test func aServerWithoutSTLSNeedsExplicitPlaintext() throws {
    let server = try DovecotServer.shared("plaintext-only")
    let user = try server.createUser("popplain")
    var account = POP3Account(
      host: server.host, port: server.pop3Port, user: user.name, security: .startTLS, timeout: .seconds(20))
    #expect {
      try POP3Client.connect(account)
    } throws: { error in
      if case POP3Error.startTLSUnavailable = error { return true }
      return false
    }
    account.allowPlaintext = true
    let client = try POP3Client.connect(account)
    defer { client.logout() }
    #expect(client.tlsInfo == nil)
    try client.login(.password(user.password))
    #expect(try client.stat().count == 0)
  }

  @Test func listingsAndExactBytesIncludingStuffedLines() throws {
    let tricky = Array(
      "From: a@example.org\r\nSubject: dots\r\nMessage-ID: <dots@x>\r\n\r\n.\r\n..\r\n.leading dot\r\nFrom here\r\n"
        .utf8)
    let messages = [
      IMAPFixture.message(1), tricky, IMAPFixture.message(3, body: String(repeating: "x", count: 300_000)),
    ]
    try deliver(messages)
    let client = try client()
    defer { client.logout() }
    let (count, _) = try client.stat()
    #expect(count == 3)
    let sizes = try client.list()
    #expect(sizes.count == 3)
    let uids = try #require(try client.uniqueIDs())
    #expect(uids.map(\.number) == [1, 2, 3])
    #expect(Set(uids.map(\.uid)).count == 3)
    var fetched: [Int: [UInt8]] = [:]
    try client.retrieve([1, 2, 3]) { fetched[$0] = $1 }
    for (index, message) in messages.enumerated() {
      #expect(fetched[index + 1] == message, "message \(index + 1)")
      #expect(sizes[index + 1] == message.count)
    }
    let header = try client.top(2, lines: 0)
    #expect(String(decoding: header, as: UTF8.self).hasPrefix("From: a@example.org\r\nSubject: dots"))
  }

  @Test func deletionsHappenOnlyAtQuit() throws {
    try deliver([IMAPFixture.message(1), IMAPFixture.message(2), IMAPFixture.message(3)])
    // DELE, then the connection drops: nothing is deleted.
    let dropped = try client()
    try dropped.delete([1, 2])
    dropped.close()
    let second = try clientOnceUnlocked()
    #expect(try second.stat().count == 3)
    // DELE, then QUIT: gone.
    try second.delete([1])
    try second.quit()
    #expect(second.hasQuit)
    let third = try client()
    defer { third.logout() }
    #expect(try third.stat().count == 2)
  }

  @Test func withoutUIDLTheClientSaysSo() throws {
    try deliver([IMAPFixture.message(1)])
    let client = try client()
    defer { client.logout() }
    client.withholdCapability("UIDL")
    #expect(try client.uniqueIDs() == nil)
  }

  @Test func traceHidesPasswordAndBodies() throws {
    try deliver([IMAPFixture.message(5, body: "SECRET-POP-BODY")])
    var text = ""
    let lock = NSLock()
    let trace = ProtocolTrace { line in lock.withLock { text += line } }
    var account = account()
    account.loginMethod = .user
    let client = try client(account, trace: trace)
    try client.retrieve([1]) { _, _ in }
    client.logout()
    let recorded = lock.withLock { text }
    #expect(!recorded.contains(fixture.user.password))
    #expect(!recorded.contains("SECRET-POP-BODY"))
    #expect(recorded.contains("PASS <redacted>"))
    #expect(recorded.contains("RETR 1"))
  }
}
