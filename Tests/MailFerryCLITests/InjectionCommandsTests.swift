import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// `probe` and `migrate` with SMTP and LMTP targets: a private Postfix relaying into the
/// private Dovecot, and Dovecot's own LMTP. A message injected by SMTP is looked for in
/// the IMAP account it was addressed to.
@Suite struct InjectionCommandsTests {
  let postfix: PostfixServer
  let dovecot: DovecotServer
  let source: DovecotServer.User
  let recipient: DovecotServer.User
  let second: DovecotServer.User
  let directory: String

  init() throws {
    postfix = try PostfixServer.shared()
    dovecot = postfix.dovecot
    source = try dovecot.createUser("smtpsrc")
    recipient = try dovecot.createUser("smtpdst")
    second = try dovecot.createUser("smtpdst2")
    directory = NSTemporaryDirectory() + "mailferry-smtp-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (name, password) in [("source", source.password), ("target", recipient.password), ("wrong", "nope")] {
      try Data(password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
      chmod("\(directory)/\(name).pw", 0o600)
    }
  }

  var imaps: String { "imaps://\(source.name)@localhost:\(dovecot.imapsPort)" }
  var pop3s: String { "pop3s://\(source.name)@localhost:\(dovecot.pop3sPort)" }
  var submission: String { "smtps://\(recipient.name)@localhost:\(postfix.smtpsPort)" }
  var common: [String] {
    [
      "--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw",
      "--ca-file", dovecot.caFile, "--state", "\(directory)/state.sqlite",
    ]
  }

  func client(_ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: dovecot.host, port: dovecot.imapsPort, user: user.name, tls: TLSOptions(caFile: dovecot.caFile))
    )
    try client.login(.password(user.password))
    return client
  }

  /// Puts messages with a Return-Path into the source INBOX; returns their bytes.
  func fill(_ count: Int, lines: Int = 5, extra: String = "") throws -> [[UInt8]] {
    let messages = (1...count).map { number in
      Array(
        ("Return-Path: <sender@example.org>\r\nFrom: sender@example.org\r\nSubject: inject \(number)\r\n"
          + "Message-ID: <inject-\(number)-\(UUID().uuidString)@example.org>\r\n\r\n\(extra)"
          + String(repeating: "line \(number) of the body\r\n.line starting with a dot\r\n", count: lines)).utf8)
    }
    let client = try client(source)
    defer { client.logout() }
    try client.append(messages.map { MessageToStore(bytes: $0) }, to: MailboxName("INBOX"))
    return messages
  }

  /// INBOX of `user`, after the relay has delivered what it holds.
  func inbox(_ user: DovecotServer.User) throws -> [[UInt8]] {
    try postfix.waitForEmptyQueue(timeout: 30)
    let client = try client(user)
    defer { client.logout() }
    try client.select(MailboxName("INBOX"), readOnly: true)
    let uids = try client.uidSearch(.all)
    return uids.isEmpty ? [] : try client.fetchMessages(uids).map(\.bytes)
  }

  /// Every original exactly once, its bytes unchanged below the trace headers added on the way.
  func arrivedExactlyOnce(_ originals: [[UInt8]], in user: DovecotServer.User) throws -> Bool {
    var remaining = try inbox(user)
    guard remaining.count == originals.count else { return false }
    for original in originals {
      guard
        let index = remaining.firstIndex(where: {
          $0.count >= original.count && Array($0.suffix(original.count)) == original
        })
      else { return false }
      remaining.remove(at: index)
    }
    return true
  }

  @Test func probeShowsExtensionsLoginAndSizeLimit() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = CapturedRun(
      ["probe", submission, "--ca-file", dovecot.caFile, "--password-file", "\(directory)/target.pw"])
    #expect(run.status == .success, "\(run.err)")
    #expect(run.out.contains("Verified:      yes"))
    #expect(run.out.contains("EHLO") && run.out.contains("PIPELINING") && run.out.contains("CHUNKING"))
    #expect(run.out.contains("Login:         OK as \(recipient.name) (AUTH PLAIN)"))
    #expect(run.out.contains("Size limit:    9.8 MiB"))

    let startTLS = CapturedRun(["probe", "smtp://localhost:\(postfix.smtpPort)", "--ca-file", dovecot.caFile])
    #expect(startTLS.status == .success, "\(startTLS.err)")
    #expect(startTLS.out.contains("(STARTTLS)"))
    #expect(startTLS.out.contains("Login:         none"))

    let lmtp = CapturedRun(["probe", "lmtp://localhost:\(dovecot.lmtpPort)", "--ca-file", dovecot.caFile])
    #expect(lmtp.status == .success, "\(lmtp.err)")
    #expect(lmtp.out.contains("LHLO"))

    let wrong = CapturedRun(
      ["probe", submission, "--ca-file", dovecot.caFile, "--password-file", "\(directory)/wrong.pw"])
    #expect(wrong.status == .noPermission)
    #expect(wrong.out.contains("Login:         FAILED"))
    #expect(wrong.err.contains("login as \(recipient.name) failed"))
  }

  @Test func imapToSMTPDeliversEveryMessageUnchangedAndOnlyOnce() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let originals = try fill(20)
    let run = CapturedRun(
      ["migrate", imaps, submission, "--rcpt", PostfixServer.address(of: recipient.name)] + common)
    #expect(run.status == .success, "\(run.err)")
    #expect(try arrivedExactlyOnce(originals, in: recipient))
    let delivered = try inbox(recipient)
    #expect(String(decoding: delivered[0].prefix(300), as: UTF8.self).hasPrefix("Return-Path: <sender@example.org>"))
    let again = CapturedRun(
      ["migrate", imaps, submission, "--rcpt", PostfixServer.address(of: recipient.name), "--quiet"] + common)
    #expect(again.status == .success)
    #expect(try inbox(recipient).count == 20)
  }

  @Test func refusedAndDeferredRecipientsAreReportedWhileTheOthersGetTheMail() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let originals = try fill(3)
    let run = CapturedRun(
      [
        "migrate", imaps, submission, "--rcpt", PostfixServer.address(of: recipient.name), "--rcpt",
        PostfixServer.permanentlyRefusedRecipient, "--rcpt", PostfixServer.temporarilyRefusedRecipient, "--rcpt",
        PostfixServer.address(of: second.name), "--defer-retries", "1", "--defer-wait", "0.2",
      ] + common)
    #expect(run.status == .partial, "\(run.err)")
    #expect(run.err.contains("refused for \(PostfixServer.permanentlyRefusedRecipient): 550"))
    #expect(run.err.contains("refused for \(PostfixServer.temporarilyRefusedRecipient): 450"))
    #expect(try arrivedExactlyOnce(originals, in: recipient))
    #expect(try arrivedExactlyOnce(originals, in: second))
  }

  @Test func tooLargeIsRefusedBeforeSendingAndEnvelopeRulesHold() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let small = try fill(1)
    _ = try fill(1, lines: postfix.messageSizeLimit / 40 + 1000)
    let run = CapturedRun(
      ["migrate", imaps, submission, "--rcpt", PostfixServer.address(of: recipient.name), "--json"] + common)
    #expect(run.status == .partial, "\(run.err)")
    #expect(run.out.contains("exceeds the server's limit"))
    #expect(try arrivedExactlyOnce(small, in: recipient))

    let noRecipient = CapturedRun(["migrate", imaps, submission] + common)
    #expect(noRecipient.status == .usage)
    #expect(noRecipient.err.contains("--rcpt"))
    let badAddress = CapturedRun(["migrate", imaps, submission, "--rcpt", "not an address"] + common)
    #expect(badAddress.status == .usage)
  }

  @Test func messagesWithoutReturnPathNeedASender() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let client = try client(source)
    let bare = Array("From: x@example.org\r\nSubject: no return path\r\n\r\nbody\r\n".utf8)
    try client.append([MessageToStore(bytes: bare)], to: MailboxName("INBOX"))
    client.logout()
    let target = ["--rcpt", PostfixServer.address(of: recipient.name)]
    let refused = CapturedRun(["migrate", imaps, submission] + target + common)
    #expect(refused.status == .partial)
    #expect(refused.err.contains("no Return-Path"))
    let sent = CapturedRun(["migrate", imaps, submission, "--mail-from", "archive@example.org"] + target + common)
    #expect(sent.status == .success, "\(sent.err)")
    let delivered = try inbox(recipient)
    #expect(delivered.count == 1)
    #expect(String(decoding: delivered[0].prefix(200), as: UTF8.self).hasPrefix("Return-Path: <archive@example.org>"))
    // Or, when asked, the null sender (a fresh job, so the message goes again).
    let nullSender = CapturedRun(
      ["migrate", imaps, submission, "--null-sender"] + target + common.dropLast(2)
        + ["--state", "\(directory)/null.sqlite"])
    #expect(nullSender.status == .success, "\(nullSender.err)")
    let both = try inbox(recipient)
    #expect(both.count == 2)
    #expect(both.contains { String(decoding: $0.prefix(200), as: UTF8.self).hasPrefix("Return-Path: <>") })
  }

  @Test func aReturnPathThatWouldInjectIntoTheEnvelopeIsNotSent() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let client = try client(source)
    let hostile = Array(
      "Return-Path: <bounce@x.example> NOTIFY=NEVER XSPOOF=1\r\nFrom: x@example.org\r\nSubject: hostile\r\n\r\nbody\r\n"
        .utf8)
    try client.append([MessageToStore(bytes: hostile)], to: MailboxName("INBOX"))
    client.logout()
    let target = ["--rcpt", PostfixServer.address(of: recipient.name)]
    // It goes from the null sender <>, its parameters never reaching the server, and the
    // report says so.
    let sent = CapturedRun(["migrate", imaps, submission] + target + common)
    #expect(sent.status == .success, "\(sent.err)")
    #expect(sent.err.contains("is not a usable envelope sender; sent from the null sender <>"), "\(sent.err)")
    #expect(!sent.err.contains("XSPOOF=1>"), "the parameters are shown escaped in quotes, never as sent")
    let delivered = try inbox(recipient)
    #expect(delivered.count == 1)
    #expect(String(decoding: delivered[0].prefix(200), as: UTF8.self).hasPrefix("Return-Path: <>"))
  }

  @Test func pop3ToLMTPTheFetchmailWay() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let originals = try fill(30)
    let arguments = [
      "migrate", pop3s, "lmtp://localhost:\(dovecot.lmtpPort)", "--rcpt", PostfixServer.address(of: recipient.name),
      "--mail-from", "fetch@example.org",
    ]
    // Dovecot's LMTP takes no login: a target password does not apply.
    let refused = CapturedRun(arguments + common)
    #expect(refused.status == .usage)
    #expect(refused.err.contains("option '--target-password-file' does not apply"), "\(refused.err)")
    let options = common.filter { !$0.hasPrefix("--target-password") && !$0.hasSuffix("target.pw") }
    let run = CapturedRun(arguments + options)
    #expect(run.status == .success, "\(run.err)")
    #expect(try arrivedExactlyOnce(originals, in: recipient))
    let again = CapturedRun(arguments + ["--delete-source"] + options)
    #expect(again.status == .success, "\(again.err)")
    #expect(try arrivedExactlyOnce(originals, in: recipient))
    let client = try client(source)
    defer { client.logout() }
    #expect(try client.status(MailboxName("INBOX"), items: ["MESSAGES"])["MESSAGES"] == 0)
  }

  @Test func restoreFromAnArchiveByLMTP() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let originals = try fill(12)
    let archive = "\(directory)/archive"
    let backup = CapturedRun(
      ["backup", imaps, archive, "--source-password-file", "\(directory)/source.pw", "--ca-file", dovecot.caFile])
    #expect(backup.status == .success, "\(backup.err)")
    let arguments = [
      "restore", archive, "lmtp://localhost:\(dovecot.lmtpPort)", "--rcpt", PostfixServer.address(of: recipient.name),
      "--state", "\(directory)/restore.sqlite", "--ca-file", dovecot.caFile, "--folder", "INBOX",
    ]
    let run = CapturedRun(arguments)
    #expect(run.status == .success, "\(run.err)")
    #expect(try arrivedExactlyOnce(originals, in: recipient))
    // Run again: nothing is delivered twice.
    #expect(CapturedRun(arguments).status == .success)
    #expect(try arrivedExactlyOnce(originals, in: recipient))
  }
}
