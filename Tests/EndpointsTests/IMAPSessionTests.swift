import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import Mailstore
import ServerFixtures
import Testing
import Transport

/// The IMAP session against the private Dovecot.
@Suite struct IMAPSessionTests {
  @Test func startTLSLoginCapabilitiesCompression() throws {
    let fixture = try IMAPFixture()
    let client = try IMAPClient.connect(fixture.account(security: .startTLS))
    defer { client.logout() }
    #expect(client.tlsInfo != nil)
    #expect(client.capabilitiesBeforeLogin.contains("AUTH=PLAIN"))
    #expect(!client.capabilitiesBeforeLogin.contains("STARTTLS"))  // re-read after the upgrade
    try client.login(.password(fixture.user.password))
    #expect(client.isAuthenticated)
    for capability in ["CONDSTORE", "QRESYNC", "MULTIAPPEND", "UIDPLUS", "COMPRESS=DEFLATE", "SPECIAL-USE", "LITERAL+"]
    {
      #expect(client.has(capability), "\(capability) after login")
    }
    #expect(try client.startCompressionIfOffered())
    #expect(client.isCompressed)
    #expect(try client.enable(["CONDSTORE", "QRESYNC"]).contains("CONDSTORE"))
    #expect(try client.identify()["name"] == "Dovecot")
    let namespace = try #require(try client.namespace())
    #expect(namespace.personal.first?.separator == "/")
    try client.noop()
  }

  @Test func wrongPasswordIsAnAuthenticationError() throws {
    let fixture = try IMAPFixture()
    let client = try IMAPClient.connect(fixture.account())
    defer { client.close() }
    do {
      try client.login(.password("not-the-password"))
      Issue.record("a wrong password logged in")
    } catch let error as IMAPError {
      guard case .authenticationFailed(_, let user, _) = error else {
        Issue.record("unexpected error \(error)")
        return
      }
      #expect(user == fixture.user.name)
      #expect(!error.isTemporary)
      #expect(error.hint?.contains("password") == true)
    }
  }

  @Test func loginCommandAndExplicitPlain() throws {
    let fixture = try IMAPFixture()
    for method in [IMAPAccount.LoginMethod.login, .plain] {
      var account = fixture.account()
      account.loginMethod = method
      var text = ""
      let trace = ProtocolTrace { text += $0 }
      let client = try IMAPClient.connect(account, trace: trace)
      try client.login(.password(fixture.user.password))
      #expect(client.isAuthenticated)
      client.logout()
      #expect(
        text.contains(method == .login ? "LOGIN \(fixture.user.name) <redacted>" : "AUTHENTICATE PLAIN <redacted>"))
      #expect(!text.contains(fixture.user.password))
    }
  }

  @Test func serverWithoutTLSNeedsExplicitPlaintext() throws {
    let server = try DovecotServer.shared("plaintext-only")
    let user = try server.createUser()
    var account = IMAPAccount(host: server.host, port: server.imapPort, user: user.name, security: .startTLS)
    #expect(throws: IMAPError.startTLSUnavailable(peer: "\(server.host):\(server.imapPort)")) {
      _ = try IMAPClient.connect(account)
    }
    account.allowPlaintext = true
    let client = try IMAPClient.connect(account)
    defer { client.logout() }
    #expect(client.tlsInfo == nil)
    try client.login(.password(user.password))
    #expect(client.isAuthenticated)
  }

  @Test func oauthBearerAndXOAuth2Tokens() throws {
    let fixture = try IMAPFixture()
    let token = try fixture.server.oauthToken(for: fixture.user.name)
    // OAUTHBEARER is preferred when both are offered.
    var text = ""
    let client = try IMAPClient.connect(fixture.account(), trace: ProtocolTrace { text += $0 })
    #expect(client.has("AUTH=OAUTHBEARER") && client.has("AUTH=XOAUTH2"))
    try client.login(.oauth2Token(token))
    #expect(client.isAuthenticated)
    client.logout()
    #expect(text.contains("AUTHENTICATE OAUTHBEARER <redacted>"))
    #expect(!text.contains(token))

    // XOAUTH2 when it is the only one: the session sees the server's list, so hide OAUTHBEARER.
    let xoauth = try IMAPClient.connect(fixture.account())
    defer { xoauth.logout() }
    xoauth.withholdCapability("AUTH=OAUTHBEARER")
    try xoauth.login(.oauth2Token(token))
    #expect(xoauth.isAuthenticated)
  }

  @Test func expiredTokenIsAnAuthenticationError() throws {
    let fixture = try IMAPFixture()
    let expired = try fixture.server.oauthToken(for: fixture.user.name, lifetime: -600)
    let client = try IMAPClient.connect(fixture.account())
    defer { client.close() }
    #expect(throws: IMAPError.self) { try client.login(.oauth2Token(expired)) }
    do {
      try client.login(.oauth2Token(expired))
    } catch IMAPError.authenticationFailed(_, let user, _) {
      #expect(user == fixture.user.name)
    }
  }

  @Test func oauthWithoutServerSupportSaysSo() throws {
    let server = try DovecotServer.shared("plaintext-only")
    let user = try server.createUser()
    let client = try IMAPClient.connect(
      IMAPAccount(host: server.host, port: server.imapPort, user: user.name, security: .startTLS, allowPlaintext: true))
    defer { client.close() }
    #expect(throws: IMAPError.noUsableAuthentication(peer: client.peer, offered: ["AUTH=LOGIN", "AUTH=PLAIN"])) {
      try client.login(.oauth2Token("token"))
    }
  }

  @Test func plaintextLoginOnlyWhenAllowed() throws {
    let fixture = try IMAPFixture()
    var account = fixture.account(security: .startTLS)
    account.allowPlaintext = true
    // Allowed plaintext still upgrades when the server offers STARTTLS.
    let client = try IMAPClient.connect(account)
    defer { client.logout() }
    #expect(client.tlsInfo != nil)
    try client.login(.password(fixture.user.password))

    // A server without STARTTLS: refused unless plaintext is allowed, before any login.
    let plain = try DovecotServer.shared("plaintext-only")
    let user = try plain.createUser("plainlogin")
    var plainAccount = IMAPAccount(host: plain.host, port: plain.imapPort, user: user.name, security: .startTLS)
    #expect(throws: IMAPError.startTLSUnavailable(peer: "\(plain.host):\(plain.imapPort)")) {
      _ = try IMAPClient.connect(plainAccount)
    }
    plainAccount.allowPlaintext = true
    let allowed = try IMAPClient.connect(plainAccount)
    defer { allowed.logout() }
    #expect(allowed.tlsInfo == nil)
    try allowed.login(.password(user.password))
  }

  @Test func foldersWithUnicodeAmpersandSpacesAndDepth() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.logout() }
    let names = ["Projekte/Größe & Co/2024/Q1", "R&D", "Sent Items", "日本語/メール"]
    for name in names {
      try client.create(client.mailboxName(name), separator: "/")
      try client.subscribe(client.mailboxName(name))
    }
    // Creating again is harmless.
    try client.create(client.mailboxName(names[0]), separator: "/")
    let folders = try client.listFolders()
    let displayed = Set(folders.map(\.displayName))
    for name in names + ["Projekte", "Projekte/Größe & Co", "Projekte/Größe & Co/2024", "日本語", "INBOX", "Sent"] {
      #expect(displayed.contains(name), "\(name) in \(displayed.sorted())")
    }
    #expect(folders.first { $0.displayName == "Projekte/Größe & Co" }?.name.wireName == "Projekte/Gr&APYA3w-e &- Co")
    #expect(folders.first { $0.displayName == "Sent" }?.specialUse == "\\Sent")
    #expect(folders.first { $0.displayName == "Trash" }?.specialUse == "\\Trash")
    let status = try client.status(client.mailboxName("R&D"), items: ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "SIZE"])
    #expect(status["MESSAGES"] == 0)
    #expect(status["UIDVALIDITY"] != nil)
  }

  @Test func multiappendKeepsBytesFlagsAndDatesAndReportsUIDs() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.logout() }
    try client.enable(["CONDSTORE"])
    let date = try #require(ReceivedDate(internalDate: "05-Mar-2024 14:07:09 +0100"))
    let messages = (1...3).map {
      MessageToStore(
        bytes: IMAPFixture.message($0), flags: $0 == 1 ? ["\\Seen", "$Important"] : [], receivedDate: date)
    }
    let uids = try #require(try client.append(messages, to: MailboxName("INBOX")))
    #expect(uids.count == 3)
    let selected = try client.select(MailboxName("INBOX"), readOnly: true)
    #expect(selected.exists == 3)
    #expect(selected.uidNext == uids.last! + 1)
    #expect(selected.highestModSeq != nil)
    #expect(selected.uidValidity != nil)

    let metadata = try client.fetchMetadata(.uids(UIDSet(uids)))
    #expect(metadata.map(\.uid) == uids)
    // \Recent is the server's own session flag, not something stored.
    #expect(Set(metadata[0].flags).subtracting(["\\Recent"]) == ["\\Seen", "$Important"])
    #expect(metadata[1].flags.filter { $0 != "\\Recent" }.isEmpty)
    #expect(metadata.allSatisfy { $0.internalDate?.secondsSince1970 == date.secondsSince1970 })
    #expect(metadata.map(\.size) == messages.map { UInt64($0.bytes.count) })
    #expect(metadata[2].messageID == MessageHeader.field("Message-ID", in: messages[2].bytes))
    #expect(metadata.allSatisfy { $0.modSeq != nil })

    let fetched = try client.fetchMessages(UIDSet(uids))
    #expect(fetched.map(\.bytes) == messages.map(\.bytes))
    // BODY.PEEK[] left \Seen alone.
    #expect(try client.fetchMetadata(.uids(UIDSet(uids)))[1].flags.filter { $0 != "\\Recent" }.isEmpty)
  }

  @Test func pipelinedAppendsWithLiteralPlus() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.logout() }
    try client.create(MailboxName("Pipelined"), separator: "/")
    let messages = (1...20).map { MessageToStore(bytes: IMAPFixture.message($0)) }
    let uids = try #require(try client.append(messages, to: MailboxName("Pipelined"), multiappend: false))
    #expect(uids == Array(1...20))
  }

  @Test func refusedAppendNamesTheReasonAndTheSessionGoesOn() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.logout() }
    do {
      try client.append([MessageToStore(bytes: IMAPFixture.message(1))], to: MailboxName("Does/Not/Exist"))
      Issue.record("APPEND to a missing folder succeeded")
    } catch let error as IMAPError {
      guard case .commandFailed(_, _, let status) = error else {
        Issue.record("unexpected \(error)")
        return
      }
      #expect(status.code == .tryCreate)
    }
    try client.noop()  // still in step
  }

  @Test func searchStoreExpunge() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.logout() }
    let big = IMAPFixture.message(3, body: String(repeating: "x", count: 5000))
    let messages = [IMAPFixture.message(1), IMAPFixture.message(2), big].map { MessageToStore(bytes: $0) }
    let uids = try #require(try client.append(messages, to: MailboxName("INBOX")))
    try client.select(MailboxName("INBOX"), readOnly: false)
    #expect(try client.uidSearch(.all) == UIDSet(uids))
    #expect(try client.uidSearch(.larger(4000)) == UIDSet([uids[2]]))
    let messageID = try #require(MessageHeader.field("Message-ID", in: messages[1].bytes))
    #expect(try client.uidSearch(.header(field: "Message-ID", value: messageID)) == UIDSet([uids[1]]))
    #expect(try client.uidSearch(.since(year: 2000, month: 1, day: 1)).count == 3)

    try client.store(UIDSet([uids[0]]), .add, flags: ["\\Deleted"])
    try client.expunge(UIDSet([uids[0]]))
    #expect(try client.uidSearch(.all) == UIDSet(uids.dropFirst()))
  }

  @Test func condstoreReportsOnlyChangedFlags() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.logout() }
    try client.enable(["CONDSTORE"])
    let uids = try #require(
      try client.append((1...5).map { MessageToStore(bytes: IMAPFixture.message($0)) }, to: MailboxName("INBOX")))
    let before = try client.select(MailboxName("INBOX"), readOnly: false)
    let modSeq = try #require(before.highestModSeq)
    try client.store(UIDSet([uids[3]]), .add, flags: ["\\Flagged"])
    let changed = try client.fetchMetadata(.from(1), changedSince: modSeq)
    #expect(changed.map(\.uid) == [uids[3]])
    #expect(changed.first?.flags.contains("\\Flagged") == true)
  }

  @Test func qresyncReportsVanishedAndChangedSinceAModSeq() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.logout() }
    #expect(try client.enable(["QRESYNC"]).contains("QRESYNC"))
    let uids = try #require(
      try client.append((1...5).map { MessageToStore(bytes: IMAPFixture.message($0)) }, to: MailboxName("INBOX")))
    let before = try client.select(MailboxName("INBOX"), readOnly: false)
    let validity = try #require(before.uidValidity)
    let modSeq = try #require(before.highestModSeq)
    try client.store(UIDSet([uids[1]]), .add, flags: ["\\Flagged"])
    try client.store(UIDSet([uids[3]]), .add, flags: ["\\Deleted"])
    try client.expunge(UIDSet([uids[3]]))
    try client.run(.unselect)

    let changes = try client.selectChanges(MailboxName("INBOX"), readOnly: true, uidValidity: validity, modSeq: modSeq)
    #expect(changes.selected.uidValidity == validity)
    #expect(changes.vanished == UIDSet([uids[3]]))
    #expect(changes.changed.map(\.uid) == [uids[1]])
    #expect(changes.changed.first?.flags.contains("\\Flagged") == true)

    // A stale UIDVALIDITY gets no incremental answer.
    try client.run(.unselect)
    let stale = try client.selectChanges(
      MailboxName("INBOX"), readOnly: true, uidValidity: validity &+ 1, modSeq: modSeq)
    #expect(stale.vanished.isEmpty && stale.changed.isEmpty)
  }

  @Test func synchronisingLiteralsWaitForTheServer() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.logout() }
    client.useNonSynchronisingLiterals = false
    let uids = try #require(
      try client.append((1...3).map { MessageToStore(bytes: IMAPFixture.message($0)) }, to: MailboxName("INBOX")))
    #expect(uids.count == 3)
    // A name that needs a literal (raw 8-bit bytes) waits for '+' too; Dovecot then refuses
    // it with its reason (a refused name, typed so the engine can rename), and the session
    // goes on.
    do {
      try client.create(MailboxName(raw: Array("Caf\u{E9}-raw".utf8)), separator: nil)
      Issue.record("an invalid mailbox name was accepted")
    } catch let refusal as FolderNameRefused {
      #expect(refusal.serverText.contains("mUTF-7"))
    }
    try client.noop()
  }

  @Test func serverGoingAwayIsARetryableError() throws {
    // Its own server, since this test shuts it down.
    let server = try DovecotServer(flavor: .standard)
    defer { server.stop() }
    let user = try server.createUser()
    let client = try IMAPClient.connect(
      IMAPAccount(
        host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile),
        compress: false))
    defer { client.close() }
    try client.login(.password(user.password))
    try client.select(MailboxName("INBOX"), readOnly: true)
    server.stop()
    // Dovecot answers with a BYE, or its processes are gone and the connection closes.
    var failure: Error?
    for _ in 0..<100 where failure == nil {
      do {
        try client.noop()
        Thread.sleep(forTimeInterval: 0.05)
      } catch {
        failure = error
      }
    }
    switch failure {
    case let error as IMAPError:
      guard case .serverClosed(_, let text) = error else {
        Issue.record("unexpected \(error)")
        return
      }
      #expect(!text.isEmpty)
      #expect(error.isTemporary)
    case let error as TransportError:
      #expect(error.isTemporary)
    default:
      Issue.record("the session went on after the server stopped: \(String(describing: failure))")
    }
  }

  @Test func largeMessageStreamsInChunks() throws {
    let fixture = try IMAPFixture()
    var message = IMAPFixture.message(1)
    let line = Array("0123456789 a line in a big message body, repeated until it is large enough\r\n".utf8)
    while message.count < 8_000_000 { message += line }
    try fixture.server.deliver(message, to: fixture.user.name)
    let client = try fixture.client()
    defer { client.logout() }
    try client.select(MailboxName("INBOX"), readOnly: true)
    var received = 0
    var largest = 0
    final class Hashing { var hasher: ContentHasher? = ContentHasher() }
    let hashing = Hashing()
    var seenUID: UInt32?
    try client.fetchBodies(
      UIDSet([1]),
      consumer: BodyConsumer(
        begin: { seenUID = $0.uid },
        bytes: { chunk in
          received += chunk.count
          largest = max(largest, chunk.count)
          hashing.hasher!.update(chunk)
        }, end: {}))
    #expect(seenUID == 1)
    #expect(received == message.count)
    #expect(largest <= Connection.defaultChunkSize)
    let digest = hashing.hasher.take()!.finalize()
    #expect(digest == ContentHasher.hash(message))
  }

  @Test func unsolicitedExistsIsDelivered() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.logout() }
    try client.select(MailboxName("INBOX"), readOnly: true)
    var seen: [UntaggedResponse] = []
    client.unsolicited = { seen.append($0) }
    try fixture.server.deliver(IMAPFixture.message(1), to: fixture.user.name)
    try client.noop()
    #expect(seen.contains(.exists(1)))
  }

  @Test func droppedSessionIsRetryable() throws {
    let fixture = try IMAPFixture()
    let client = try fixture.client()
    defer { client.close() }
    try client.select(MailboxName("INBOX"), readOnly: true)
    try fixture.server.dropConnections(of: fixture.user.name)
    do {
      try client.noop()
      Issue.record("NOOP on a dropped connection succeeded")
    } catch let error as TransportError {
      #expect(error.isTemporary)
    } catch let error as IMAPError {
      #expect(error.isTemporary)
    }
  }

  @Test func traceHidesPasswordAndBodies() throws {
    let fixture = try IMAPFixture()
    var text = ""
    let lock = NSLock()
    let trace = ProtocolTrace { line in lock.withLock { text += line } }
    let client = try fixture.client(compress: false, trace: trace)
    defer { client.logout() }
    let body = IMAPFixture.message(7, body: "SECRET-BODY-CONTENT")
    let uids = try #require(try client.append([MessageToStore(bytes: body)], to: MailboxName("INBOX")))
    try client.select(MailboxName("INBOX"), readOnly: true)
    _ = try client.fetchMessages(UIDSet(uids))
    let recorded = lock.withLock { text }
    #expect(!recorded.contains(fixture.user.password))
    #expect(!recorded.contains(Data(fixture.user.password.utf8).base64EncodedString()))
    #expect(!recorded.contains("SECRET-BODY-CONTENT"))
    #expect(recorded.contains("AUTHENTICATE PLAIN <redacted>"))
    #expect(recorded.contains("[\(body.count) bytes]"))
  }
}

@Suite struct CompressionRuleTests {
  @Test func compressionPaysOnlyOnSlowLinks() {
    #expect(IMAPClient.compressionPays(rate: 1e6, uploading: false))
    #expect(IMAPClient.compressionPays(rate: 5e6, uploading: false))
    #expect(!IMAPClient.compressionPays(rate: 40e6, uploading: false))
    #expect(!IMAPClient.compressionPays(rate: 4e6, uploading: true))
    #expect(IMAPClient.compressionPays(rate: 2e6, uploading: true))
  }
}
