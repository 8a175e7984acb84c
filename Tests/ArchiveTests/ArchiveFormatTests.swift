import Archive
import Foundation
import MailCore
import Storage
import Testing

@Suite struct ArchiveFormatTests {
  static func message(_ number: Int, body: String = "", extra: String = "") -> [UInt8] {
    Array(
      ("Return-Path: <sender\(number)@example.org>\r\nFrom: Sender \(number) <Sender\(number)@Example.org>\r\n"
        + "Subject: message \(number)\r\nMessage-ID: <m\(number)@example.org>\r\n\(extra)\r\n"
        + "Hello \(number)\r\nFrom the start of a line\r\n>From quoted\r\n\(body)").utf8)
  }

  static func entry(
    _ bytes: [UInt8], flags: [String] = ["\\Seen"], date: Int64? = 1_700_000_000, uid: UInt32 = 1
  )
    -> MessageToArchive
  {
    MessageToArchive(
      bytes: bytes, flags: flags, internalDate: date, zoneMinutes: 60,
      origin: ArchiveOrigin(account: "imaps://u@h", folder: "INBOX", validity: 7, uid: uid))
  }

  /// Every catalog row as text, for comparing two catalogs.
  static func dump(_ archive: Archive) throws -> [String] {
    var lines: [String] = []
    for folder in try archive.folders() {
      lines.append("folder \(folder.name) \(folder.validity) \(folder.specialUse ?? "-") next \(folder.nextUID)")
      for message in try archive.allMessages(folder) {
        lines.append("\(message)")
      }
    }
    return lines
  }

  @Test func messagesRoundTripExactlyAndAreStoredOnce() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let archive = try Archive(path: directory.file("a"), create: true)
    #expect(try FileSecurity.permissions(ofPath: directory.file("a")) == 0o700)
    #expect(try FileSecurity.permissions(ofPath: directory.file("a/catalog.sqlite")) == 0o600)
    let inbox = try archive.prepareFolder(named: "INBOX", specialUse: nil).folder
    let sent = try archive.prepareFolder(named: "Eltern/Entwürfe & Co", specialUse: "\\Sent").folder
    let noFinalNewline = Array("Subject: odd\r\n\r\nno line end".utf8)
    let lfOnly = Array("Subject: lf\n\nFrom here\nbody\n\n".utf8)
    let messages = [Self.message(1), Self.message(2, body: "x\r\n"), noFinalNewline, lfOnly, Self.message(1)]
    let uids = try archive.append(messages.map { Self.entry($0) }, to: inbox)
    #expect(uids == [1, 2, 3, 4, 5])
    // The same message in a second folder: one more catalog row, no new bytes.
    let sizeBefore = try directorySize(directory.file("a/folders"))
    #expect(try archive.append([Self.entry(Self.message(1))], to: sent) == [1])
    let sentData = directory.file("a/folders/" + ArchiveLayout.directoryName(forFolder: sent.name) + "/000001.mbox.gz")
    #expect(DurableFileSize.of(sentData) == 0)
    #expect(try directorySize(directory.file("a/folders")) > sizeBefore)  // only the manifest line

    let stored = try archive.allMessages(inbox)
    #expect(stored.map(\.uid) == [1, 2, 3, 4, 5])
    #expect(try archive.read(stored) == messages)
    let copy = try #require(try archive.allMessages(sent).first)
    #expect(try archive.read([copy]) == [Self.message(1)])
    #expect(copy.location == stored[0].location)
    #expect(stored[0].messageID == "m1@example.org")
    #expect(stored[0].from == "sender1@example.org")
    #expect(stored[0].flags == ["\\Seen"])
    #expect(stored[0].internalDate == 1_700_000_000 && stored[0].zoneMinutes == 60)
    #expect(stored[0].origin == ArchiveOrigin(account: "imaps://u@h", folder: "INBOX", validity: 7, uid: 1))
    #expect(try archive.folder(named: sent.name)?.specialUse == "\\Sent")

    // zcat of the data file is mboxrd: separator lines, quoted From lines.
    let inboxData = directory.file("a/folders/INBOX/000001.mbox.gz")
    let plain = String(
      decoding: try GzipReader.decompress([UInt8](try Data(contentsOf: URL(fileURLWithPath: inboxData)))),
      as: UTF8.self)
    #expect(plain.hasPrefix("From sender1@example.org Tue Nov 14 22:13:20 2023\n"))
    #expect(plain.contains("\r\n>From the start of a line\r\n>>From quoted\r\n"))
    #expect(plain.components(separatedBy: "\nFrom ").count == 4)  // four records stored, one a repeat
  }

  @Test func verifyFindsACorruptedByteAndReindexRebuildsTheSameCatalog() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("a")
    let archive = try Archive(path: path, create: true)
    let inbox = try archive.prepareFolder(named: "INBOX", specialUse: nil).folder
    let other = try archive.prepareFolder(named: "Archive/2024", specialUse: "\\Archive").folder
    for batch in 0..<3 {
      _ = try archive.append(
        (1...20).map { Self.entry(Self.message(batch * 100 + $0, body: String(repeating: "text ", count: 200))) },
        to: inbox)
    }
    _ = try archive.append([Self.entry(Self.message(5)), Self.entry(Self.message(9999))], to: other)
    try archive.setFlags([(uid: 3, flags: ["\\Seen", "\\Flagged", "$Work"])], in: inbox)
    try archive.markPresent(account: "imaps://u@h", sourceFolder: "INBOX", validity: 7, uids: [1], recordedIn: inbox)
    #expect(try archive.verify().isIntact)
    let before = try Self.dump(archive)

    // Delete the catalog: reindex gives back the same content.
    for suffix in ["", "-wal", "-shm"] {
      try? FileManager.default.removeItem(atPath: path + "/catalog.sqlite" + suffix)
    }
    #expect(throws: ArchiveError.catalogMissing(path: path)) { try Archive(path: path, create: false) }
    let report = try ArchiveReindexer.reindex(path: path)
    #expect(report.messages == 62)
    #expect(report.notes.isEmpty, "\(report.notes)")
    let rebuilt = try Archive(path: path, create: false)
    #expect(try Self.dump(rebuilt) == before)

    // Flip one byte inside the second member: verify names the file and the member.
    let data = path + "/folders/INBOX/000001.mbox.gz"
    let rebuiltInbox = try #require(try rebuilt.folder(named: "INBOX"))
    let second = try #require(try rebuilt.allMessages(rebuiltInbox).first { $0.uid == 21 }).location.memberOffset
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data)))
    bytes[second + 200] ^= 0x55
    try Data(bytes).write(to: URL(fileURLWithPath: data))
    let result = try rebuilt.verify()
    #expect(!result.isIntact)
    #expect(result.problems.count == 1)
    #expect(result.problems.first?.contains("000001.mbox.gz") == true)
    #expect(result.problems.first?.contains("byte \(second)") == true)
  }

  @Test func aTornTailIsCutOffAndTheNextBatchFollowsTheLastCommittedOne() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("a")
    let archive = try Archive(path: path, create: true)
    let inbox = try archive.prepareFolder(named: "INBOX", specialUse: nil).folder
    _ = try archive.append([Self.entry(Self.message(1))], to: inbox)
    let data = path + "/folders/INBOX/000001.mbox.gz"
    let manifest = path + "/folders/INBOX/000001.manifest"
    let committed = try #require(DurableFileSize.of(data))
    // A killed run: half a member and half a manifest line after the committed end.
    let torn = try GzipWriter.compress(Self.message(2))
    try append(Array(torn.prefix(torn.count / 2)), to: data)
    try append(Array("stored\tuid=2\tsha".utf8), to: manifest)
    #expect(try archive.verify().notes.count == 2)

    let reopened = try Archive(path: path, create: false)
    let prepared = try reopened.prepareFolder(named: "INBOX", specialUse: nil)
    #expect(prepared.repairedBytes == torn.count / 2 + "stored\tuid=2\tsha".utf8.count)
    #expect(DurableFileSize.of(data) == committed)
    #expect(try reopened.append([Self.entry(Self.message(3))], to: prepared.folder) == [2])
    let all = try reopened.allMessages(prepared.folder)
    #expect(try reopened.read(all) == [Self.message(1), Self.message(3)])
    #expect(try reopened.verify().isIntact)
    #expect(try reopened.verify().notes.isEmpty)
  }

  @Test func reindexCutsATornTailAndIndexesADataFileWithoutManifest() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("a")
    let archive = try Archive(path: path, create: true)
    let inbox = try archive.prepareFolder(named: "INBOX", specialUse: nil).folder
    let lost = try archive.prepareFolder(named: "Lost", specialUse: nil).folder
    _ = try archive.append([Self.entry(Self.message(1)), Self.entry(Self.message(2))], to: inbox)
    _ = try archive.append([Self.entry(Self.message(7)), Self.entry(Self.message(8))], to: lost)
    try append(Array(try GzipWriter.compress(Self.message(3)).prefix(30)), to: path + "/folders/INBOX/000001.mbox.gz")
    try FileManager.default.removeItem(atPath: path + "/folders/Lost/000001.manifest")
    try FileManager.default.removeItem(atPath: path + "/catalog.sqlite")

    let report = try ArchiveReindexer.reindex(path: path)
    #expect(report.notes.contains { $0.contains("cut off 30 bytes") })
    #expect(report.notes.contains { $0.contains("Lost/000001.manifest: missing; 2 message(s)") })
    let rebuilt = try Archive(path: path, create: false)
    let folders = try rebuilt.folders()
    #expect(folders.map(\.name) == ["INBOX", "Lost"])
    let recovered = try rebuilt.allMessages(folders[1])
    #expect(try rebuilt.read(recovered) == [Self.message(7), Self.message(8)])
    #expect(recovered.allSatisfy { $0.flags.isEmpty })
    #expect(try rebuilt.verify().isIntact)
    #expect(try rebuilt.verify().notes.isEmpty)
  }

  @Test func reindexAfterADamagedMemberKeepsTheMembersAfterItAndNeverReusesAUID() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("a")
    let archive = try Archive(path: path, create: true)
    let inbox = try archive.prepareFolder(named: "INBOX", specialUse: nil).folder
    for batch in 0..<3 {
      _ = try archive.append((1...5).map { Self.entry(Self.message(batch * 10 + $0, body: "text\r\n")) }, to: inbox)
    }
    let messages = try archive.allMessages(inbox)
    let second = messages[5].location.memberOffset
    let data = path + "/folders/INBOX/000001.mbox.gz"
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data)))
    bytes[second + 40] ^= 0xFF
    try Data(bytes).write(to: URL(fileURLWithPath: data))
    let manifestBefore = try String(contentsOfFile: path + "/folders/INBOX/000001.manifest", encoding: .utf8)

    let report = try ArchiveReindexer.reindex(path: path)
    #expect(report.messages == 10, "\(report.notes)")
    #expect(report.notes.filter { $0.contains("is damaged; left out of the index") }.count == 5)
    let rebuilt = try Archive(path: path, create: false)
    let folder = try #require(try rebuilt.folder(named: "INBOX"))
    #expect(try rebuilt.allMessages(folder).map(\.uid) == [1, 2, 3, 4, 5, 11, 12, 13, 14, 15])
    // The damaged messages' lines stay in the manifest; the next UID is past all of them.
    #expect(try String(contentsOfFile: path + "/folders/INBOX/000001.manifest", encoding: .utf8) == manifestBefore)
    #expect(folder.nextUID == 16)
    #expect(try rebuilt.append([Self.entry(Self.message(99))], to: folder) == [16])
  }

  @Test func specialUseChangesSurviveAReindexAndCaseTwinsGetTheirOwnDirectories() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("a")
    let archive = try Archive(path: path, create: true)
    let upper = try archive.prepareFolder(named: "Archive", specialUse: nil).folder
    let lower = try archive.prepareFolder(named: "archive", specialUse: nil).folder
    #expect(upper.directory.lowercased() != lower.directory.lowercased())
    _ = try archive.append([Self.entry(Self.message(1))], to: upper)
    _ = try archive.append([Self.entry(Self.message(2))], to: lower)
    _ = try archive.prepareFolder(named: "Archive", specialUse: "\\Archive")
    let before = try Self.dump(archive)
    try FileManager.default.removeItem(atPath: path + "/catalog.sqlite")
    let report = try ArchiveReindexer.reindex(path: path)
    #expect(report.notes.isEmpty, "\(report.notes)")
    let rebuilt = try Archive(path: path, create: false)
    #expect(try rebuilt.folder(named: "Archive")?.specialUse == "\\Archive")
    #expect(try Self.dump(rebuilt).sorted() == before.sorted())
  }

  @Test func aNonArchiveDirectoryIsRefused() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    try Data("hello".utf8).write(to: URL(fileURLWithPath: directory.file("note.txt")))
    #expect(throws: ArchiveError.notAnArchive(path: directory.path)) {
      try Archive(path: directory.path, create: true)
    }
    #expect(throws: ArchiveError.noArchiveYet(path: directory.file("missing"))) {
      try Archive(path: directory.file("missing"), create: false)
    }
  }

  @Test func manifestLinesRoundTrip() throws {
    let message = ManifestMessage(
      uid: 9, sha256: ContentHasher.hash(Self.message(1)), size: 120, flags: ["\\Seen", "$Label1"],
      internalDate: -5, zoneMinutes: -420, firstSeen: 1_700_000_000,
      origin: ArchiveOrigin(account: "pop3s://me@h", folder: "IN\tBOX%", validity: 3, uid: 4, name: "uidl x"))
    let entries: [ManifestEntry] = [
      .folder(name: "Entwürfe/ä b", validity: 42, specialUse: "\\Drafts"),
      .stored(message, location: ManifestLocation(memberOffset: 10, recordOffset: 20, recordLength: 30)),
      .copy(message), .flags(uid: 9, flags: [], at: 5),
      .present(account: "a", folder: "b", validity: 1, uids: ManifestEntry.ranges([1, 2, 3, 7, 9, 10]), at: 6),
    ]
    for entry in entries {
      #expect(!entry.line.contains("\n"))
      #expect(try ManifestEntry.parse(entry.line) == entry)
    }
    #expect(ManifestEntry.ranges([1, 2, 3, 7, 9, 10]) == [1...3, 7...7, 9...10])
    #expect(try ManifestEntry.parse("future\tx=1") == nil)
    #expect(throws: ManifestError.self) { try ManifestEntry.parse("stored\tuid=x") }
  }

  func append(_ bytes: [UInt8], to path: String) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(bytes))
    try handle.close()
  }

  func directorySize(_ path: String) throws -> Int {
    var total = 0
    let enumerator = FileManager.default.enumerator(atPath: path)
    while let name = enumerator?.nextObject() as? String {
      total += DurableFileSize.of(path + "/" + name) ?? 0
    }
    return total
  }
}

enum DurableFileSize {
  static func of(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
  }
}
