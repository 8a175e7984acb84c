import Foundation
import LocalEndpoint
import Testing

@testable import MailFerryCLI

/// Folder names too long for one file name (255 bytes) survive backup, restore, export and
/// import exactly: the archive, a Maildir, an mbox tree and an .eml tree shorten the file
/// name, and the real name comes back.
@Suite struct LongFolderNameTests {
  let exports: ExportImportTests
  var backup: BackupCommandTests { exports.backup }
  var directory: String { backup.directory }

  init() throws { exports = try ExportImportTests() }

  /// 60 Cyrillic letters a level (720 bytes percent-encoded), three levels deep.
  static let cyrillicLevel = String(repeating: "Годовой отчёт ", count: 5).prefix(60)
  static let cyrillic = [String](repeating: String(cyrillicLevel), count: 3).joined(separator: "/")
  /// 230 ASCII bytes in one level, with spaces and `&` (percent-encoded past 240 bytes).
  static let ascii = String(String(repeating: "Minutes & notes of the board ", count: 8).prefix(230))

  @Test func longNamesRoundTripThroughArchiveMaildirMboxAndEml() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try backup.fill(backup.sourceUser, folders: ["INBOX": 1, Self.cyrillic: 3, Self.ascii: 2])
    let archive = backup.archivePath
    let stored = CapturedRun(["backup", backup.url(backup.sourceUser), archive] + backup.sourceOptions)
    try #require(stored.status == .success, "\(stored.err)")
    #expect(CapturedRun(["backup", backup.url(backup.sourceUser), archive] + backup.sourceOptions).status == .success)
    let original = try exports.catalogue(archive)
    #expect(Set(original.keys) == ["INBOX", Self.cyrillic, Self.ascii])
    for name in try FileManager.default.contentsOfDirectory(atPath: archive + "/folders") {
      #expect(name.utf8.count <= 255, "\(name)")
    }

    // Restore into another account.
    let target = try backup.server.createUser("blong")
    try backup.password(target, name: "long")
    let restored = CapturedRun(["restore", archive, backup.url(target)] + backup.restoreOptions("long"))
    #expect(restored.status == .success, "\(restored.err)")
    #expect(try backup.contents(target) == backup.contents(backup.sourceUser))

    // Maildir and mbox exports read back into archives with the same folders and messages.
    for format in ["maildir", "mbox"] {
      let exported = "\(directory)/\(format)"
      let run = CapturedRun(["export", archive, exported, "--format", format])
      #expect(run.status == .success, "\(format): \(run.err)")
      let again = "\(directory)/from-\(format)"
      let imported = CapturedRun(["import", "\(format):\(exported)", again])
      #expect(imported.status == .success, "\(format): \(imported.err)")
      let back = try exports.catalogue(again, flags: format == "maildir")
      let expected = format == "maildir" ? original : try exports.catalogue(archive, flags: false)
      #expect(back == expected, "\(format): \(back.keys.sorted()) vs \(expected.keys.sorted())")
    }

    // .eml: the folders are listed by their real names.
    let eml = "\(directory)/eml"
    let run = CapturedRun(["export", archive, eml, "--format", "eml"])
    #expect(run.status == .success, "\(run.err)")
    let listed = Set(try EmlSink(directory: eml).folders().map(\.name))
    #expect(listed.isSuperset(of: [Self.cyrillic, Self.ascii]), "\(listed)")
  }
}
