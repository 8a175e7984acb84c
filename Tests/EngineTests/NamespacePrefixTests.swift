import Engine
import Foundation
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing

/// Migrations to and from a Courier-style server: every folder under `INBOX.`, special
/// folders known only by name.
@Suite struct NamespacePrefixTests {
  typealias Account = MigrationTests.Account
  let courier: Account
  let standard: Account
  let exchange: Account
  let statePath: String

  init() throws {
    let courierServer = try DovecotServer.shared("courier-like")
    let standardServer = try DovecotServer.shared()
    let exchangeServer = try DovecotServer.shared("exchange-like")
    courier = Account(server: courierServer, user: try courierServer.createUser("cour"))
    standard = Account(server: standardServer, user: try standardServer.createUser("std"))
    exchange = Account(server: exchangeServer, user: try exchangeServer.createUser("exch"))
    statePath = NSTemporaryDirectory() + "mailferry-ns-\(UUID().uuidString)/job.sqlite"
  }

  func migrate(_ source: Account, _ target: Account) throws -> MigrationReport {
    try Migration(
      source: { IMAPSource(try source.connect()) }, sink: { IMAPSink(try target.connect()) },
      sourceIdentity: source.identity, targetIdentity: target.identity, statePath: statePath,
      options: MigrationOptions()
    ).run()
  }

  func fill(_ account: Account, _ folders: [String: Int]) throws {
    let client = try account.connect()
    defer { client.logout() }
    for (folder, count) in folders {
      let name = client.mailboxName(folder)
      if try !client.listFolders().contains(where: { $0.name == name }) {
        try client.create(name, separator: account.server.flavor.separator)
      }
      try client.append(
        (1...count).map {
          MessageToStore(bytes: MigrationTests.message($0, folder: folder), flags: $0 == 1 ? ["\\Seen"] : [])
        }, to: name)
    }
  }

  func targets(_ report: MigrationReport) -> [String: String] {
    Dictionary(uniqueKeysWithValues: report.folders.map { ($0.source, $0.target) })
  }

  @Test func courierFoldersLoseTheirPrefixAndFindTheTargetsSpecialFolders() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    let client = try courier.connect()
    #expect(try client.personalPrefix() == "INBOX.")
    client.logout()
    try fill(courier, ["INBOX": 2, "INBOX.Sent": 2, "INBOX.Trash": 1, "INBOX.Projects.2024": 3])
    let report = try migrate(courier, exchange)
    #expect(report.isComplete)
    #expect(report.copied == 8)
    let map = targets(report)
    #expect(map["INBOX"] == "INBOX")
    #expect(map["INBOX.Sent"] == "Sent Items")
    #expect(map["INBOX.Trash"] == "Deleted Items")
    #expect(map["INBOX.Projects.2024"] == "Projects.2024")
    for (from, to) in map where from != "INBOX.Drafts" {
      #expect(
        try MigrationTests.snapshot(courier, folder: from) == MigrationTests.snapshot(exchange, folder: to),
        "\(from) → \(to)")
    }
  }

  @Test func foldersGoUnderTheTargetsPrefixAndVerifyAgrees() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    try fill(standard, ["INBOX": 1, "Sent": 2, "Projekte/Größe & Co": 2])
    let report = try migrate(standard, courier)
    #expect(report.isComplete)
    let map = targets(report)
    #expect(map["Sent"] == "INBOX.Sent")  // by name: the target reports no attributes
    #expect(map["Projekte/Größe & Co"] == "INBOX.Projekte.Größe & Co")
    #expect(
      try MigrationTests.snapshot(standard, folder: "Projekte/Größe & Co")
        == MigrationTests.snapshot(courier, folder: "INBOX.Projekte.Größe & Co"))
    let standard = self.standard
    let courier = self.courier
    let comparison = try Verification(
      source: { IMAPSource(try standard.connect()) }, target: { IMAPSource(try courier.connect()) },
      options: VerificationOptions()
    ).run()
    #expect(comparison.count == report.folders.count)
    #expect(comparison.allSatisfy { $0.matches && $0.flagDifferences.isEmpty }, "\(comparison)")
  }
}
