import Archive
import Foundation
import IMAPCodec
import LocalEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// `export` and `import` round trips, and a local Maildir on either side of `migrate`.
@Suite struct ExportImportTests {
  let backup: BackupCommandTests

  init() throws { backup = try BackupCommandTests() }

  var directory: String { backup.directory }

  /// Folder → sorted "hash flags date" lines of an archive, like `contents` of an account.
  func catalogue(_ path: String, flags: Bool = true) throws -> [String: [String]] {
    let archive = try Archive(path: path, create: false)
    var result: [String: [String]] = [:]
    for folder in try archive.folders() where try archive.messageCount(folder) > 0 {
      result[folder.name] = try archive.allMessages(folder).map {
        "\($0.sha256.hex)|\(flags ? $0.flags.sorted().joined(separator: ",") : "-")|\($0.internalDate ?? -1)"
      }.sorted()
    }
    return result
  }

  @Test func exportToMaildirAndMboxRoundTripsThroughImport() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try backup.fill(backup.sourceUser, folders: ["INBOX": 5, "Sent": 3, "Projekte/Größe & Co": 4])
    let archive = backup.archivePath
    #expect(CapturedRun(["backup", backup.url(backup.sourceUser), archive] + backup.sourceOptions).status == .success)
    let original = try catalogue(archive)

    // Maildir keeps bytes, flags and dates.
    let maildir = "\(directory)/Maildir"
    let exported = CapturedRun(["export", archive, maildir, "--format", "maildir"])
    #expect(exported.status == .success, "\(exported.err)")
    // Maildir++: one dot directory per folder, the name in modified UTF-7 as Dovecot keeps it.
    #expect(FileManager.default.fileExists(atPath: maildir + "/.Projekte.Gr&APYA3w-e &- Co/cur"))
    let fromMaildir = "\(directory)/from-maildir"
    let imported = CapturedRun(
      ["import", "maildir:\(maildir)", fromMaildir, "--folder-map", "Projekte.Größe & Co=Projekte/Größe & Co"])
    #expect(imported.status == .success, "\(imported.err)")
    #expect(try catalogue(fromMaildir) == original)

    // mbox keeps bytes and dates; every folder's file holds every message it had, the one
    // stored once for three folders included.
    let mbox = "\(directory)/mbox"
    #expect(CapturedRun(["export", archive, mbox, "--format", "mbox"]).status == .success)
    let inbox = try GzipReaderless.split(mbox + "/INBOX")
    #expect(inbox.count == 5)
    let fromMbox = "\(directory)/from-mbox"
    let again = CapturedRun(["import", "mbox:\(mbox)", fromMbox])
    #expect(again.status == .success, "\(again.err)")
    func withoutFlags(_ folders: [String: [String]]) -> [String: [String]] {
      folders.mapValues {
        $0.map { $0.split(separator: "|", omittingEmptySubsequences: false) }.map { "\($0[0])|\($0[2])" }.sorted()
      }
    }
    #expect(withoutFlags(try catalogue(fromMbox, flags: false)) == withoutFlags(original))

    // .eml: one file per message.
    let eml = "\(directory)/eml"
    #expect(CapturedRun(["export", archive, eml, "--format", "eml", "--folder", "Sent"]).status == .success)
    let files = try FileManager.default.contentsOfDirectory(atPath: eml + "/Sent").filter { $0.hasSuffix(".eml") }
    #expect(files.count == 3)
    #expect(CapturedRun(["export", archive, eml, "--format", "pdf"]).status == .usage)
    #expect(CapturedRun(["export", archive, eml, "--format", "eml", "--folder", "Nope"]).status == .dataError)
  }

  @Test func migrateWritesAndReadsALocalMaildir() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try backup.fill(backup.sourceUser, folders: ["INBOX": 4, "Projekte/Größe & Co": 2])
    let maildir = "\(directory)/Maildir"
    let down = CapturedRun(
      ["migrate", backup.url(backup.sourceUser), "maildir:\(maildir)", "--state", "\(directory)/down.sqlite"]
        + backup.sourceOptions)
    #expect(down.status == .success, "\(down.err)")
    let target = try backup.server.createUser("bmdir")
    try backup.password(target, name: "up")
    let up = CapturedRun(
      [
        "migrate", "maildir:\(maildir)", backup.url(target), "--state", "\(directory)/up.sqlite",
        "--folder-map", "Projekte.Größe & Co=Projekte/Größe & Co",
      ] + backup.restoreOptions("up"))
    #expect(up.status == .success, "\(up.err)")
    let source = try backup.contents(backup.sourceUser)
    let copied = try backup.contents(target)
    #expect(copied["INBOX"] == source["INBOX"])
    #expect(copied["Projekte/Größe & Co"] == source["Projekte/Größe & Co"])
    // A second run finds nothing new.
    let twice = CapturedRun(
      [
        "migrate", backup.url(backup.sourceUser), "maildir:\(maildir)", "--state", "\(directory)/down.sqlite",
        "--quiet",
      ]
        + backup.sourceOptions)
    #expect(twice.status == .success && twice.out.isEmpty, "\(twice.out)")
  }
}

/// Splits a plain mbox file into messages (for checking an export without the store types).
enum GzipReaderless {
  static func split(_ path: String) throws -> [[UInt8]] {
    var splitter = MboxSplitter()
    var messages: [[UInt8]] = []
    splitter.feed([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))) { messages.append($0.message) }
    splitter.finish { messages.append($0.message) }
    return messages
  }
}
