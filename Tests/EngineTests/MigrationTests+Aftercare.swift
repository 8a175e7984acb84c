import Engine
import Foundation
import IMAPCodec
import MailCore
import Testing

/// `--sync-flags`, `--delete-source` and UIDVALIDITY changes, against the same two Dovecots.
extension MigrationTests {
  func report(_ report: MigrationReport, _ folder: String) throws -> FolderReport {
    try #require(report.folders.first { $0.source == folder }, "no report for \(folder)")
  }

  /// Changes flags in the source: INBOX's first message gains \Flagged and a keyword, the
  /// second loses \Seen; Sent's first gains \Answered.
  func changeSourceFlags() throws {
    let client = try source.connect()
    defer { client.logout() }
    try client.select(MailboxName("INBOX"), readOnly: false)
    let inbox = try client.uidSearch(.all).sorted()
    try client.store(UIDSet([inbox[0]]), .add, flags: ["\\Flagged", "$Later"])
    try client.store(UIDSet([inbox[1]]), .remove, flags: ["\\Seen"])
    try client.select(client.mailboxName("Sent"), readOnly: false)
    let sent = try client.uidSearch(.all).sorted()
    try client.store(UIDSet([sent[0]]), .add, flags: ["\\Answered"])
  }

  @Test func syncFlagsCarriesChangesMadeSinceTheLastRun() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    _ = try fillSource()
    var options = MigrationOptions()
    options.syncFlags = true
    let first = try migration(options).run()
    #expect(first.isComplete)
    #expect(first.folders.reduce(0) { $0 + $1.flagsUpdated } == 0)

    try changeSourceFlags()
    // Without the option the copies keep their old flags, and the run must not lose the
    // changes for a later run that has it.
    let plain = try migration().run()
    #expect(plain.copied == 0)
    #expect(try Self.snapshot(source, folder: "INBOX") != Self.snapshot(target, folder: "INBOX"))

    let synced = try migration(options).run()
    #expect(synced.copied == 0)
    #expect(try report(synced, "INBOX").flagsUpdated == 2)
    #expect(try report(synced, "Sent").flagsUpdated == 1)
    for (sourceFolder, targetFolder) in [("INBOX", "INBOX"), ("Sent", "Sent Items")] {
      #expect(try Self.snapshot(source, folder: sourceFolder) == Self.snapshot(target, folder: targetFolder))
    }
    // Nothing changed since: nothing written.
    let again = try migration(options).run()
    #expect(again.folders.reduce(0) { $0 + $1.flagsUpdated } == 0)
  }

  @Test func deleteSourceRemovesOnlyConfirmedCopies() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    let client = try source.connect()
    try client.create(MailboxName("Outbox"), separator: "/")
    var huge = Self.message(1, folder: "Outbox", body: "")
    let line = Array("a line of a message too large for the target server, repeated many times over\r\n".utf8)
    while huge.count < target.server.flavor.maxMessageSize + 1_000_000 { huge += line }
    let old = ReceivedDate(internalDate: "01-Jan-2001 00:00:00 +0000")!
    try client.append(
      [
        MessageToStore(bytes: Self.message(2, folder: "Outbox")), MessageToStore(bytes: huge),
        MessageToStore(bytes: Self.message(3, folder: "Outbox"), receivedDate: old),
        MessageToStore(bytes: Self.message(4, folder: "Outbox")),
        MessageToStore(bytes: Self.message(5, folder: "Outbox")),
      ], to: MailboxName("Outbox"))
    client.logout()

    // First a plain copy; then one copy disappears from the target.
    var options = MigrationOptions()
    options.include = ["^Outbox$"]
    options.since = ReceivedDate(internalDate: "01-Jan-2010 00:00:00 +0000")!.secondsSince1970
    let copied = try migration(options).run()
    #expect(copied.copied == 3)
    #expect(copied.failed == 1)
    let targetClient = try target.connect()
    try targetClient.select(MailboxName("Outbox"), readOnly: false)
    let lost = try #require(try targetClient.uidSearch(.all).max)
    try targetClient.store(UIDSet([lost]), .add, flags: ["\\Deleted"])
    try targetClient.expunge(UIDSet([lost]))
    targetClient.logout()

    options.deleteSource = true
    let deleting = try migration(options).run()
    let outbox = try report(deleting, "Outbox")
    #expect(outbox.deletedFromSource == 2)
    #expect(outbox.notes.contains { $0.contains("1 message(s) stay in the source") }, "\(outbox.notes)")
    // Left in the source: the refused one, the filtered one, and the one whose copy is gone.
    let left = try Self.snapshot(source, folder: "Outbox").map { String($0.prefix(64)) }
    let expected = [huge, Self.message(3, folder: "Outbox"), Self.message(5, folder: "Outbox")].map {
      ContentHasher.hash($0).hex
    }
    #expect(left.sorted() == expected.sorted())
    let hashesInTarget = try Self.snapshot(target, folder: "Outbox").map { String($0.prefix(64)) }
    #expect(
      hashesInTarget.sorted()
        == [Self.message(2, folder: "Outbox"), Self.message(4, folder: "Outbox")].map { ContentHasher.hash($0).hex }
        .sorted())
  }

  @Test func uidValidityChangesOnEitherSideAreMatchedByContent() throws {
    defer { try? FileManager.default.removeItem(atPath: (statePath as NSString).deletingLastPathComponent) }
    _ = try fillSource()
    var options = MigrationOptions()
    options.include = ["^R&D$"]
    #expect(try migration(options).run().copied == 2)

    // The source folder is renumbered (as after a server restore), and gains a message.
    _ = try source.server.doveadm(["mailbox", "update", "--uid-validity", "777", "-u", source.user.name, "R&D"])
    try source.server.deliver(Self.message(3, folder: "R&D"), to: source.user.name, folder: "R&D")
    let afterSource = try report(try migration(options).run(), "R&D")
    #expect(afterSource.copied == 1)
    #expect(afterSource.duplicates == 2)
    #expect(afterSource.notes.contains { $0.contains("UIDVALIDITY changed") }, "\(afterSource.notes)")
    #expect(try Self.snapshot(source, folder: "R&D") == Self.snapshot(target, folder: "R&D"))

    // Now the target folder is renumbered; a new source message still moves exactly once,
    // and --delete-source confirms the older copies by content.
    _ = try target.server.doveadm(["mailbox", "update", "--uid-validity", "888", "-u", target.user.name, "R&D"])
    try source.server.deliver(Self.message(4, folder: "R&D"), to: source.user.name, folder: "R&D")
    options.deleteSource = true
    let afterTarget = try report(try migration(options).run(), "R&D")
    #expect(afterTarget.copied == 1)
    #expect(afterTarget.deletedFromSource == 4)
    #expect(try Self.snapshot(source, folder: "R&D").isEmpty)
    #expect(try Self.snapshot(target, folder: "R&D").count == 4)
  }
}
