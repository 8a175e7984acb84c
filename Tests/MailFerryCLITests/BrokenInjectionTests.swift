import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

/// SMTP (the private Postfix) and LMTP (Dovecot's) injection through a
/// `FaultInjectingProxy` that breaks most connections, rerun until done. docs/cli.md
/// promises: nothing lost, and at most one message doubled per broken connection (one
/// delivery per connection is in doubt when it breaks). The counts are printed.
@Suite struct BrokenInjectionTests {
  let postfix: PostfixServer
  let dovecot: DovecotServer
  let source: DovecotServer.User
  let directory: String
  let broken: BrokenConnectionTests

  init() throws {
    broken = try BrokenConnectionTests()
    postfix = try PostfixServer.shared()
    dovecot = postfix.dovecot
    source = try dovecot.createUser("brkinjsrc")
    directory = broken.directory
    try Data(source.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/injection-source.pw"))
    chmod("\(directory)/injection-source.pw", 0o600)
  }

  func client(_ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: dovecot.host, port: dovecot.imapsPort, user: user.name, tls: TLSOptions(caFile: dovecot.caFile))
    )
    try client.login(.password(user.password))
    return client
  }

  /// Every original's copies in the recipient's INBOX (matched below the headers the
  /// server added), and how many messages it holds that are none of them.
  func deliveries(of originals: [[UInt8]], to user: DovecotServer.User) throws -> (copies: [Int], others: Int) {
    try postfix.waitForEmptyQueue(timeout: 30)
    let client = try client(user)
    defer { client.logout() }
    try client.select(MailboxName("INBOX"), readOnly: true)
    let uids = try client.uidSearch(.all)
    let stored = uids.isEmpty ? [] : try client.fetchMessages(uids).map(\.bytes)
    let copies = originals.map { original in stored.filter { $0.suffix(original.count).elementsEqual(original) }.count }
    return (copies, stored.count - copies.reduce(0, +))
  }

  @Test(arguments: ["smtp", "lmtp"]) func injectionThroughBrokenConnectionsLosesNothing(_ scheme: String) throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let recipient = try dovecot.createUser("brk\(scheme)")
    let originals = (1...12).map { number in
      Array(
        ("Return-Path: <sender@example.org>\r\n"
          + String(decoding: BrokenConnectionTests.message(scheme, number), as: UTF8.self)).utf8)
    }
    let sourceClient = try client(source)
    try sourceClient.append(originals.map { MessageToStore(bytes: $0) }, to: MailboxName("INBOX"))
    sourceClient.logout()
    let upstream = scheme == "smtp" ? postfix.smtpPort : dovecot.lmtpPort
    let proxy = try FaultInjectingProxy(
      upstreamPort: upstream,
      plan: .random(
        seed: scheme == "smtp" ? 4 : 5, rate: 1, span: 8_000, kinds: BrokenConnectionTests.streamFaults,
        slowRate: 2 << 20))
    defer { proxy.stop() }
    let runs = try broken.rerunUntilDone(
      [
        "migrate", "imaps://\(source.name)@localhost:\(dovecot.imapsPort)", "\(scheme)://localhost:\(proxy.port)",
        "--rcpt", PostfixServer.address(of: recipient.name), "--source-password-file",
        "\(directory)/injection-source.pw", "--source-ca-file", dovecot.caFile, "--target-ca-file",
        scheme == "smtp" ? postfix.caFile : dovecot.caFile,
        "--state", "\(directory)/\(scheme).sqlite", "--batch", "5",
      ])
    let (copies, others) = try deliveries(of: originals, to: recipient)
    let cuts = proxy.faults[.cut, default: 0]
    #expect(copies.allSatisfy { $0 >= 1 }, "lost: \(copies)")
    #expect(others == 0)
    let doubled = copies.reduce(0) { $0 + $1 - 1 }
    #expect(doubled <= cuts, "\(doubled) doubled with \(cuts) cuts")
    #expect(cuts >= 3, "\(proxy.faults)")
    print("\(scheme): \(runs) runs, faults \(proxy.faults), \(doubled) of \(originals.count) messages doubled")
  }
}
