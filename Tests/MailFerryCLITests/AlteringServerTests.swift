import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// A migration into a server that changes what it stores: a real Dovecot behind a proxy
/// that turns every 8-bit byte of an appended message's header into `X` (same size, other
/// bytes). Each altered copy is reported by message, folder and first differing byte, the
/// run exits 3, and a rerun neither copies them again nor doubles anything.
@Suite struct AlteringServerTests {
  let source: DovecotServer
  let target: DovecotServer
  let sourceUser: DovecotServer.User
  let targetUser: DovecotServer.User
  let directory: String

  init() throws {
    source = try DovecotServer.shared()
    target = try DovecotServer.shared("plaintext-only")
    sourceUser = try source.createUser("altsrc")
    targetUser = try target.createUser("altdst")
    directory = NSTemporaryDirectory() + "mailferry-altering-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (user, name) in [(sourceUser, "source"), (targetUser, "target")] {
      try Data(user.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
      chmod("\(directory)/\(name).pw", 0o600)
    }
  }

  /// Message `number`; the odd ones carry raw UTF-8 in their Subject.
  static func message(_ number: Int) -> [UInt8] {
    let from = number % 2 == 1 ? "Jörg <joerg@example.org>" : "alice@example.org"
    let subject = number % 2 == 1 ? "Grüße Nummer \(number)" : "plain \(number)"
    return Array(
      ("From: \(from)\r\nSubject: \(subject)\r\nMessage-ID: <altered-\(number)@example.org>\r\n\r\n"
        + "Body with ümlauts stays: \(number)\r\n").utf8)
  }

  @Test func everyAlteredCopyIsReportedAndARerunAddsNothing() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let client = try IMAPClient.connect(
      IMAPAccount(
        host: source.host, port: source.imapsPort, user: sourceUser.name, tls: TLSOptions(caFile: source.caFile)))
    try client.login(.password(sourceUser.password))
    let messages = (1...6).map(Self.message)
    try client.append(messages.map { MessageToStore(bytes: $0) }, to: MailboxName("INBOX"))
    client.logout()

    let proxy = try TCPProxy(upstreamPort: target.imapPort, clientToServer: { EightBitHeaderRewriter() })
    defer { proxy.stop() }
    let arguments = [
      "migrate", "imaps://\(sourceUser.name)@localhost:\(source.imapsPort)",
      "imap://\(targetUser.name)@localhost:\(proxy.port)", "--allow-plaintext", "--no-compress",
      "--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw",
      "--source-ca-file", source.caFile, "--state", "\(directory)/state.sqlite",
      // Three batches of two, read back together as one group.
      "--batch", "2",
    ]
    let run = CapturedRun(arguments)
    #expect(run.status == .partial, "\(run.err)")
    // Three messages have 8-bit headers: each named with where it first differs.
    for number in [1, 3, 5] {
      let bytes = messages[number - 1]
      let offset = try #require(bytes.firstIndex { $0 >= 0x80 })
      #expect(
        run.err.contains(
          "INBOX: the target altered the copy of message UID \(number) <altered-\(number)@example.org>"),
        "\(run.err)")
      #expect(
        run.err.contains(
          "header byte \(offset): sent 0x\(String(bytes[offset], radix: 16, uppercase: true)), stored 0x58 'X' "
            + "(same size: only the bytes were changed)"), "\(run.err)")
    }
    #expect(!run.err.contains("message UID 2 "), "\(run.err)")
    #expect(run.err.contains("verified: every stored copy read back by its id, size and header compared"))
    #expect(run.err.contains("running the same command again will not change this"), "\(run.err)")
    #expect(run.out.contains("ALTERED"))

    let again = CapturedRun(arguments)
    #expect(again.status == .success, "\(again.err)")
    #expect(again.err.contains("3 copies were found altered by the target in earlier runs"), "\(again.err)")
    let stored = try IMAPClient.connect(
      IMAPAccount(
        host: target.host, port: target.imapPort, user: targetUser.name, security: .startTLS,
        tls: .verified, allowPlaintext: true))
    try stored.login(.password(targetUser.password))
    defer { stored.logout() }
    #expect(try stored.status(MailboxName("INBOX"), items: ["MESSAGES"])["MESSAGES"] == 6)
  }

  /// A message larger than the spool threshold whose copy the target alters in its body
  /// (same size): `--verify` finds the hash differs, and the report names the first byte
  /// that differs, found by reading the spooled message and the stored copy a chunk at a
  /// time.
  @Test func aLargeCopyAlteredInItsBodyIsReportedWithItsFirstDifference() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let line = Array("a line of a large message, all of it ASCII but one character\r\n".utf8)
    var message = Array("From: big@example.org\r\nMessage-ID: <altered-big@example.org>\r\n\r\n".utf8)
    while message.count < 3 << 20 { message += line }
    let offset = message.count
    message += Array("Grüße\r\n".utf8)
    while message.count < 6 << 20 { message += line }
    let client = try IMAPClient.connect(
      IMAPAccount(
        host: source.host, port: source.imapsPort, user: sourceUser.name, tls: TLSOptions(caFile: source.caFile)))
    try client.login(.password(sourceUser.password))
    try client.append([MessageToStore(bytes: message)], to: MailboxName("INBOX"))
    client.logout()

    let proxy = try TCPProxy(upstreamPort: target.imapPort, clientToServer: { EightBitHeaderRewriter(bodyToo: true) })
    defer { proxy.stop() }
    let run = CapturedRun([
      "migrate", "imaps://\(sourceUser.name)@localhost:\(source.imapsPort)",
      "imap://\(targetUser.name)@localhost:\(proxy.port)", "--allow-plaintext", "--no-compress", "--verify",
      "--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw",
      "--source-ca-file", source.caFile, "--state", "\(directory)/state.sqlite",
    ])
    #expect(run.status == .partial, "\(run.err)")
    #expect(
      run.err.contains("INBOX: the target altered the copy of message UID 1 <altered-big@example.org>"), "\(run.err)")
    #expect(
      run.err.contains(
        "content differs; first difference at byte \(offset + 2): sent 0xC3, stored 0x58 'X' (same size"),
      "\(run.err)")
  }
}
