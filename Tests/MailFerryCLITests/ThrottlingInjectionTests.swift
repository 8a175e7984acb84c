import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// SMTP injection into a throttling server: the private Postfix behind a
/// `ThrottlingProxy` that answers some MAIL FROM with `451 4.7.500 Server busy` and one with
/// `421 4.7.0 Too many connections` (closing). Each message is delivered exactly once.
@Suite struct ThrottlingInjectionTests {
  let postfix: PostfixServer
  let dovecot: DovecotServer
  let source: DovecotServer.User
  let recipient: DovecotServer.User
  let directory: String

  init() throws {
    ThrottlingServerTests.backoffScaled
    postfix = try PostfixServer.shared()
    dovecot = postfix.dovecot
    source = try dovecot.createUser("thrsmtpsrc")
    recipient = try dovecot.createUser("thrsmtpdst")
    directory = NSTemporaryDirectory() + "mailferry-throttled-smtp-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try Data(source.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/source.pw"))
    chmod("\(directory)/source.pw", 0o600)
  }

  func client(_ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: dovecot.host, port: dovecot.imapsPort, user: user.name, tls: TLSOptions(caFile: dovecot.caFile))
    )
    try client.login(.password(user.password))
    return client
  }

  @Test func injectionThroughThrottledMailFromDeliversEachMessageOnce() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let originals = (1...10).map { number in
      Array(
        ("Return-Path: <sender@example.org>\r\nFrom: sender@example.org\r\nSubject: throttled \(number)\r\n"
          + "Message-ID: <throttled-smtp-\(number)-\(UUID().uuidString)@example.org>\r\n\r\nbody \(number)\r\n").utf8)
    }
    let sourceClient = try client(source)
    try sourceClient.append(originals.map { MessageToStore(bytes: $0) }, to: MailboxName("INBOX"))
    sourceClient.logout()

    let proxy = try ThrottlingProxy(
      upstreamPort: postfix.smtpPort, dialect: .smtp,
      schedules: [
        ThrottleSchedule(verbs: ["MAIL"], every: 2, times: 3, answer: .smtpServerBusy),
        ThrottleSchedule(verbs: ["MAIL"], every: 4, times: 1, answer: .smtpTooManyConnections),
      ], hidesSTARTTLS: true)
    defer { proxy.stop() }
    let arguments = [
      "migrate", "imaps://\(source.name)@localhost:\(dovecot.imapsPort)", "smtp://localhost:\(proxy.port)",
      "--rcpt", PostfixServer.address(of: recipient.name), "--allow-plaintext", "--source-password-file",
      "\(directory)/source.pw", "--source-ca-file", dovecot.caFile, "--state", "\(directory)/state.sqlite",
    ]
    let run = CapturedRun(arguments)
    #expect(run.status == .success, "\(run.err)")
    #expect(proxy.throttled == 4)
    // The folder counts what every attempt delivered, not only the last one.
    #expect(run.err.contains("INBOX: 10 copied, 0 already there, 0 failed"), "\(run.err)")
    #expect(run.err.contains("waited: "), "\(run.err)")
    #expect(!run.err.contains("sent again"), "\(run.err)")
    #expect(try arrivedOnce(originals))
    let again = CapturedRun(arguments)
    #expect(again.status == .success, "\(again.err)")
    #expect(try arrivedOnce(originals))
  }

  /// Every original in the recipient's INBOX exactly once, unchanged below the headers the
  /// relay added.
  func arrivedOnce(_ originals: [[UInt8]]) throws -> Bool {
    try postfix.waitForEmptyQueue(timeout: 30)
    let client = try client(recipient)
    defer { client.logout() }
    try client.select(MailboxName("INBOX"), readOnly: true)
    let uids = try client.uidSearch(.all)
    var remaining = uids.isEmpty ? [] : try client.fetchMessages(uids).map(\.bytes)
    guard remaining.count == originals.count else { return false }
    for original in originals {
      guard let index = remaining.firstIndex(where: { $0.suffix(original.count).elementsEqual(original) }) else {
        return false
      }
      remaining.remove(at: index)
    }
    return true
  }
}
