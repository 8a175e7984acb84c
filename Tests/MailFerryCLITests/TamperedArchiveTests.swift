import Foundation
import ServerFixtures
import Testing

@testable import MailFerryCLI

/// A catalog from elsewhere is not trusted: a folder directory or data file name it holds
/// that points outside the archive is refused before anything is opened.
@Suite struct TamperedArchiveTests {
  let backup: BackupCommandTests
  var directory: String { backup.directory }

  init() throws { backup = try BackupCommandTests() }

  /// A Maildir with `count` messages, numbered from `first`.
  func maildir(_ path: String, first: Int, count: Int) throws {
    for sub in ["cur", "new", "tmp"] {
      try FileManager.default.createDirectory(atPath: "\(path)/\(sub)", withIntermediateDirectories: true)
    }
    for number in first..<(first + count) {
      let message = "From: a@example.org\r\nSubject: \(number)\r\nMessage-ID: <\(number)@example.org>\r\n\r\nbody\r\n"
      try Data(message.utf8).write(to: URL(fileURLWithPath: "\(path)/cur/\(number).host:2,S"))
    }
  }

  func sqlite(_ database: String, _ statement: String) throws {
    _ = try Subprocess.run(["sqlite3", database, statement])
  }

  /// What a file outside the archive holds, to compare after each run.
  func snapshot(_ path: String) throws -> [String: Data] {
    var files: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: path) {
      files[name] = try Data(contentsOf: URL(fileURLWithPath: "\(path)/\(name)"))
    }
    return files
  }

  func expectRefused(_ run: CapturedRun, _ what: String) {
    #expect(run.status != .success, "\(what): \(run.out)")
    #expect(run.err.contains("not a folder directory or data file of an archive"), "\(what): \(run.err)")
    #expect(run.err.contains("mailferry archive reindex"), "\(what): \(run.err)")
  }

  @Test(arguments: ["directory", "file", "symlink"]) func catalogPathsOutsideTheArchiveAreRefused(
    _ field: String
  ) throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = "\(directory)/Maildir"
    let archive = "\(directory)/archive"
    try maildir(source, first: 1, count: 2)
    let first = CapturedRun(["import", "maildir:\(source)", archive])
    try #require(first.status == .success, "\(first.err)")

    // Files outside the archive that look like a folder's, with more bytes than committed:
    // a repair would cut them, an append would write into them.
    let victim = "\(directory)/victimdir"
    try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
    for name in ["000001.mbox.gz", "000001.manifest"] {
      var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(archive)/folders/INBOX/\(name)"))
      bytes.append(Data("precious bytes that are not the archive's\n".utf8))
      try bytes.write(to: URL(fileURLWithPath: "\(victim)/\(name)"))
    }
    let before = try snapshot(victim)
    switch field {
    case "directory": try sqlite("\(archive)/catalog.sqlite", "UPDATE folders SET directory = '../../victimdir'")
    case "file": try sqlite("\(archive)/catalog.sqlite", "UPDATE files SET name = '../../../victimdir/000001.mbox.gz'")
    default:
      // The folder's directory itself replaced by a link that leads out of the archive.
      try FileManager.default.removeItem(atPath: "\(archive)/folders/INBOX")
      try FileManager.default.createSymbolicLink(atPath: "\(archive)/folders/INBOX", withDestinationPath: victim)
    }
    try maildir(source, first: 3, count: 1)

    expectRefused(CapturedRun(["import", "maildir:\(source)", archive]), "import")
    expectRefused(CapturedRun(["archive", "verify", archive]), "verify")
    expectRefused(CapturedRun(["export", archive, "\(directory)/out", "--format", "mbox"]), "export")
    let target = try backup.server.createUser("tamper")
    try backup.password(target, name: "tamper")
    expectRefused(
      CapturedRun(["restore", archive, backup.url(target)] + backup.restoreOptions("tamper")), "restore")
    #expect(try snapshot(victim) == before)
  }
}
