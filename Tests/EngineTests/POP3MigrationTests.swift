import Engine
import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import POP3Endpoint
import ServerFixtures
import Testing
import Transport

/// A POP3 maildrop (the standard Dovecot's POP3 service) moved into an IMAP account on
/// the Exchange-like Dovecot.
@Suite struct POP3MigrationTests {
  typealias Account = MigrationTests.Account
  let mailbox: Account
  let target: Account
  let statePath: String

  init() throws {
    let sourceServer = try DovecotServer.shared()
    let targetServer = try DovecotServer.shared("exchange-like")
    mailbox = Account(server: sourceServer, user: try sourceServer.createUser("pop"))
    target = Account(server: targetServer, user: try targetServer.createUser("popdst"))
    statePath = NSTemporaryDirectory() + "mailferry-pop3-\(UUID().uuidString)/job.sqlite"
  }

  func pop3(withholding: [String] = []) throws -> POP3Client {
    let client = try POP3Client.connect(
      POP3Account(
        host: mailbox.server.host, port: mailbox.server.pop3sPort, user: mailbox.user.name,
        tls: TLSOptions(caFile: mailbox.server.caFile), timeout: .seconds(20)))
    try client.login(.password(mailbox.user.password))
    for capability in withholding { client.withholdCapability(capability) }
    return client
  }

  func migration(_ options: MigrationOptions = MigrationOptions(), withholding: [String] = []) -> Migration {
    let target = self.target
    let test = self
    return Migration(
      source: { POP3Source(try test.pop3(withholding: withholding)) }, sink: { IMAPSink(try target.connect()) },
      sourceIdentity: "pop3s://\(mailbox.user.name)@\(mailbox.server.host):\(mailbox.server.pop3sPort)",
      targetIdentity: target.identity, statePath: statePath, options: options)
  }

  static func message(_ number: Int, lines: Int = 10) -> [UInt8] {
    Array(
      ("Received: from mx.example.org by pop.example.org; Tue, 5 Mar 2024 14:07:\(10 + number % 40) +0100\r\n"
        + "From: a@example.org\r\nSubject: pop \(number)\r\nMessage-ID: <pop-\(number)@example.org>\r\n"
        + "Date: Mon, 4 Mar 2024 09:00:00 +0000\r\n\r\n"
        + String(repeating: "line of message \(number)\r\n.dot-stuffed line \(number)\r\n", count: lines)).utf8)
  }

  /// Fills the maildrop over IMAP (POP3 reads the same INBOX).
  func fill(_ numbers: ClosedRange<Int>, lines: Int = 10) throws {
    let client = try mailbox.connect()
    defer { client.logout() }
    let messages = numbers.map { MessageToStore(bytes: Self.message($0, lines: lines)) }
    for start in stride(from: 0, to: messages.count, by: 100) {
      try client.append(Array(messages[start..<min(start + 100, messages.count)]), to: MailboxName("INBOX"))
    }
  }

  func hashes(_ account: Account, folder: String = "INBOX") throws -> [String] {
    try MigrationTests.snapshot(account, folder: folder).map { String($0.prefix(64)) }.sorted()
  }

  @Test func aMaildropMovesIntactAndTheNextRunFetchesOnlyWhatIsNew() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    try fill(1...300)
    let first = try migration().run()
    #expect(first.isComplete, "\(first.folders)")
    #expect(first.copied == 300)
    #expect(first.folders.map(\.target) == ["INBOX"])
    #expect(try hashes(target) == hashes(mailbox))
    // The arrival date comes from the topmost Received field.
    let dates = try MigrationTests.snapshot(target, folder: "INBOX").map { $0.split(separator: " ").last! }
    let expected = ReceivedDate(internalDate: "05-Mar-2024 14:07:10 +0100")!.secondsSince1970
    #expect(dates.allSatisfy { Int64($0)! >= expected && Int64($0)! < expected + 40 })

    let second = try migration().run()
    #expect(second.copied == 0)
    #expect(second.folders.first?.considered == 0)  // nothing was downloaded again

    try fill(301...302)
    let third = try migration().run()
    #expect(third.copied == 2)
    #expect(try hashes(target) == hashes(mailbox))
  }

  @Test func aFolderOfTheTargetAndKeepDays() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    try fill(1...20)
    var options = MigrationOptions()
    options.folderMap = [POP3Source.folderName: "From POP"]
    options.deleteSource = true
    options.keepDays = 30
    let kept = try migration(options).run()
    #expect(kept.copied == 20)
    #expect(kept.folders.first?.target == "From POP")
    #expect(kept.folders.first?.deletedFromSource == 0)  // stored today, kept for 30 days
    #expect(try pop3().stat().count == 20)

    options.keepDays = 0
    let deleting = try migration(options).run()
    #expect(deleting.copied == 0)
    #expect(deleting.folders.first?.deletedFromSource == 20)
    let client = try pop3()
    defer { client.logout() }
    #expect(try client.stat().count == 0)
    #expect(try hashes(target, folder: "From POP").count == 20)
  }

  @Test func deleteSourceLeavesWhatTheTargetRefused() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    try fill(1...3)
    let huge = Self.message(4, lines: target.server.flavor.maxMessageSize / 40 + 10_000)
    let client = try mailbox.connect()
    try client.append([MessageToStore(bytes: huge)], to: MailboxName("INBOX"))
    client.logout()
    var options = MigrationOptions()
    options.deleteSource = true
    let report = try migration(options).run()
    #expect(report.copied == 3)
    #expect(report.failed == 1)
    #expect(report.folders.first?.deletedFromSource == 3)
    #expect(try hashes(mailbox) == [ContentHasher.hash(huge).hex])
  }

  @Test func withoutUIDLEverythingIsMatchedByContent() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    try fill(1...10)
    #expect(try migration(withholding: ["UIDL"]).run().copied == 10)
    try fill(11...12)
    let again = try migration(withholding: ["UIDL"]).run()
    let folder = try #require(again.folders.first)
    #expect(folder.copied == 2)
    #expect(folder.duplicates == 10)
    #expect(folder.notes.contains { $0.contains("no UIDL") }, "\(folder.notes)")
    #expect(!folder.notes.contains { $0.contains("UIDVALIDITY") })
    #expect(try hashes(target) == hashes(mailbox))
  }

  @Test func aConnectionCutDuringRetrievalLosesAndDoublesNothing() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    try fill(1...400, lines: 400)
    var options = MigrationOptions()
    options.batchCount = 20
    let migration = migration(options)
    final class Outcome: @unchecked Sendable { var report: Result<MigrationReport, any Error>? }
    let outcome = Outcome()
    let finished = DispatchSemaphore(value: 0)
    Thread {
      outcome.report = Result { try migration.run() }
      finished.signal()
    }.start()
    var cuts = 0
    for _ in 0..<2000 where cuts < 3 {
      if finished.wait(timeout: .now()) == .success {
        finished.signal()
        break
      }
      let copied = try MigrationTests.snapshotCount(target, folder: "INBOX")
      if copied > cuts * 100 + 20 {
        cuts += try mailbox.server.dropConnections(of: mailbox.user.name) > 0 ? 1 : 0
      }
      usleep(20_000)
    }
    finished.wait()
    let report = try #require(try outcome.report?.get())
    #expect(cuts > 0, "no connection was cut while messages moved")
    #expect(report.isComplete, "\(report.folders)")
    #expect(try hashes(target) == hashes(mailbox))
  }
}
