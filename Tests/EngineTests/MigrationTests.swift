import Engine
import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

/// Whole migrations between two private Dovecots with different hierarchies: "/" with
/// Sent, and "." with Exchange-style names.
@Suite struct MigrationTests {
  struct Account {
    let server: DovecotServer
    let user: DovecotServer.User

    func connect() throws -> IMAPClient {
      let client = try IMAPClient.connect(
        IMAPAccount(
          host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile)))
      try client.login(.password(user.password))
      try client.enable(["CONDSTORE"])
      return client
    }

    var identity: String { "imaps://\(user.name)@\(server.host):\(server.imapsPort)" }
  }

  let source: Account
  let target: Account
  let statePath: String

  init() throws {
    let sourceServer = try DovecotServer.shared()
    let targetServer = try DovecotServer.shared("exchange-like")
    source = Account(server: sourceServer, user: try sourceServer.createUser("src"))
    target = Account(server: targetServer, user: try targetServer.createUser("dst"))
    statePath = NSTemporaryDirectory() + "mailferry-state-\(UUID().uuidString)/job.sqlite"
  }

  func migration(_ options: MigrationOptions = MigrationOptions()) -> Migration {
    let source = self.source
    let target = self.target
    return Migration(
      source: { IMAPSource(try source.connect()) }, sink: { IMAPSink(try target.connect()) },
      sourceIdentity: source.identity,
      targetIdentity: target.identity, statePath: statePath, options: options)
  }

  static func message(_ number: Int, folder: String, body: String? = nil) -> [UInt8] {
    Array(
      ("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: \(folder) \(number)\r\n"
        + "Message-ID: <\(folder.hashValue)-\(number)@example.org>\r\n\r\n"
        + (body ?? "Body of \(number) in \(folder).\r\n")).utf8)
  }

  /// Fills the source: nested non-ASCII folders, Sent, flags, keywords, dates, and two
  /// identical copies of one message in INBOX.
  func fillSource() throws -> [String: [MessageToStore]] {
    let client = try source.connect()
    defer { client.logout() }
    var content: [String: [MessageToStore]] = [:]
    let date = ReceivedDate(internalDate: "05-Mar-2024 14:07:09 +0100")!
    let folders = ["INBOX": 6, "Sent": 3, "Projekte/Größe & Co/2024": 4, "R&D": 2]
    for (folder, count) in folders {
      if folder != "INBOX" { try client.create(client.mailboxName(folder), separator: "/") }
      var messages = (1...count).map { number in
        MessageToStore(
          bytes: Self.message(number, folder: folder),
          flags: number % 2 == 0 ? ["\\Seen", "$Work"] : (number == 3 ? ["\\Flagged"] : []),
          receivedDate: ReceivedDate(secondsSince1970: date.secondsSince1970 + Int64(number * 3600), zoneMinutes: 60))
      }
      if folder == "INBOX" { messages.append(messages[0]) }  // an exact duplicate in the source
      try client.append(messages, to: client.mailboxName(folder))
      content[folder] = messages
    }
    return content
  }

  /// How many messages a folder holds (0 when it does not exist yet).
  static func snapshotCount(_ account: Account, folder: String) throws -> Int {
    let client = try account.connect()
    defer { client.logout() }
    let name = client.mailboxName(folder)
    guard try client.listFolders().contains(where: { $0.name == name }) else { return 0 }
    return Int(try client.status(name, items: ["MESSAGES"])["MESSAGES"] ?? 0)
  }

  /// Every message of a folder: content hash, flags without \Recent, INTERNALDATE.
  static func snapshot(_ account: Account, folder: String) throws -> [String] {
    let client = try account.connect()
    defer { client.logout() }
    try client.select(client.mailboxName(folder), readOnly: true)
    let uids = try client.uidSearch(.all)
    guard !uids.isEmpty else { return [] }
    let metadata = Dictionary(uniqueKeysWithValues: try client.fetchMetadata(.uids(uids)).map { ($0.uid, $0) })
    return try client.fetchMessages(uids).map { message in
      let info = metadata[message.uid]!
      let flags = info.flags.filter { $0 != "\\Recent" }.sorted().joined(separator: " ")
      return "\(ContentHasher.hash(message.bytes)) [\(flags)] \(info.internalDate?.secondsSince1970 ?? 0)"
    }.sorted()
  }

  @Test func fullMigrationIsFaithfulAndTheRerunCopiesNothing() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    _ = try fillSource()
    var options = MigrationOptions()
    options.batchCount = 3  // several batches per folder
    let report = try migration(options).run()
    #expect(report.isComplete, "\(report.folders)")
    #expect(report.copied == 16)
    #expect(report.duplicates == 0)
    let targets = Dictionary(uniqueKeysWithValues: report.folders.map { ($0.source, $0.target) })
    #expect(targets["Sent"] == "Sent Items")
    #expect(targets["Projekte/Größe & Co/2024"] == "Projekte.Größe & Co.2024")
    #expect(targets["R&D"] == "R&D")
    for (sourceFolder, targetFolder) in targets {
      #expect(
        try Self.snapshot(source, folder: sourceFolder) == Self.snapshot(target, folder: targetFolder),
        "\(sourceFolder) → \(targetFolder)")
    }

    let again = try migration(options).run()
    #expect(again.copied == 0)
    #expect(again.duplicates == 0)
    #expect(again.isComplete)

    // One new message: only it moves.
    let client = try source.connect()
    try client.append([MessageToStore(bytes: Self.message(99, folder: "R&D"))], to: client.mailboxName("R&D"))
    client.logout()
    let third = try migration(options).run()
    #expect(third.copied == 1)
    #expect(try Self.snapshot(source, folder: "R&D") == Self.snapshot(target, folder: "R&D"))
  }

  @Test func whatTheTargetAlreadyHoldsIsSkippedCopyForCopy() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    let content = try fillSource()
    // The target already has one copy of the INBOX message the source holds twice.
    let client = try target.connect()
    try client.append([content["INBOX"]![0]], to: MailboxName("INBOX"))
    client.logout()
    let report = try migration().run()
    #expect(report.isComplete)
    #expect(report.duplicates == 1)
    #expect(report.copied == 15)
    // INBOX holds exactly what the source holds: the duplicate pair twice, not three times.
    let sourceHashes = try Self.snapshot(source, folder: "INBOX").map { $0.prefix(64) }
    let targetHashes = try Self.snapshot(target, folder: "INBOX").map { $0.prefix(64) }
    #expect(sourceHashes == targetHashes)
  }

  @Test func dedupNoneAndMessageIDModes() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    let content = try fillSource()
    // Same Message-ID, different content, already in the target.
    let original = try content["R&D"]![0].body.wholeBytes()
    let edited = Array(String(decoding: original, as: UTF8.self).replacingOccurrences(of: "Body", with: "Edited").utf8)
    let client = try target.connect()
    try client.create(client.mailboxName("R&D"), separator: ".")
    try client.append([MessageToStore(bytes: edited)], to: client.mailboxName("R&D"))
    client.logout()
    var options = MigrationOptions()
    options.include = ["^R&D$"]
    options.dedup = .messageID
    let report = try migration(options).run()
    #expect(report.duplicates == 1)  // the aggressive mode skips it by Message-ID
    #expect(report.folders.first?.duplicatesByMessageID == 1)
    #expect(report.copied == 1)
  }

  @Test func defaultDedupNeverDropsSameMessageIDWithDifferentContent() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    let content = try fillSource()
    let original = try content["R&D"]![0].body.wholeBytes()
    let edited = Array(String(decoding: original, as: UTF8.self).replacingOccurrences(of: "Body", with: "Edited").utf8)
    let client = try target.connect()
    try client.create(client.mailboxName("R&D"), separator: ".")
    try client.append([MessageToStore(bytes: edited)], to: client.mailboxName("R&D"))
    client.logout()
    var options = MigrationOptions()
    options.include = ["^R&D$"]
    let report = try migration(options).run()
    #expect(report.duplicates == 0)
    #expect(report.copied == 2)
  }

  @Test func aRefusedMessageIsReportedAndTheRestMoves() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    let client = try source.connect()
    try client.create(MailboxName("Big"), separator: "/")
    var huge = Self.message(1, folder: "Big", body: "")
    let line = Array("a line of a message too large for the target server, repeated many times over\r\n".utf8)
    while huge.count < target.server.flavor.maxMessageSize + 1_000_000 { huge += line }
    try client.append(
      [
        MessageToStore(bytes: Self.message(2, folder: "Big")), MessageToStore(bytes: huge),
        MessageToStore(bytes: Self.message(3, folder: "Big")),
      ], to: MailboxName("Big"))
    client.logout()
    var options = MigrationOptions()
    options.include = ["^Big$"]
    let report = try migration(options).run()
    #expect(!report.isComplete)
    #expect(report.copied == 2)
    #expect(report.failed == 1)
    let failure = try #require(report.folders.first?.failed.first)
    #expect(failure.key == 2)
    #expect(failure.kind == .refusedByTarget)
    #expect(!failure.isTemporary)
    #expect(!failure.reason.isEmpty)
    // The next run tries it again and still reports it.
    let again = try migration(options).run()
    #expect(again.copied == 0)
    #expect(again.failed == 1)
  }
}
