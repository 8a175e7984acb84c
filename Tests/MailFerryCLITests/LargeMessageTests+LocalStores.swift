import Foundation
import MailCore
import ServerFixtures
import Testing

/// Large messages through the local stores and `verify`, and `--spool-dir`: the same
/// binary, Dovecot and memory bound as the rest of `LargeMessageTests`.
extension LargeMessageTests {
  /// Two 48 MiB messages exported from an archive into a Maildir and an mbox, migrated from
  /// that Maildir, and verified: byte for byte, each run under the memory bound.
  @Test func largeMessagesPassThroughLocalStoresWithinAMemoryBound() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fillSource(megabytes: 48)
    let hashes = try backup.contents(backup.sourceUser).values.flatMap { $0.map { String($0.prefix(64)) } }.sorted()
    #expect(try run(backupCommand).status == 0)
    let maildir = "\(directory)/export-maildir"
    let mbox = "\(directory)/export-mbox"
    let target = try backup.server.createUser("biglocal")
    try backup.password(target, name: "target")
    let commands = [
      ["export", backup.archivePath, maildir, "--format", "maildir", "--quiet"],
      ["export", backup.archivePath, mbox, "--format", "mbox", "--quiet"],
      ["migrate", "maildir:\(maildir)", backup.url(target), "--quiet", "--connections", "1"]
        + ["--target-password-file", "\(directory)/target.pw", "--ca-file", backup.server.caFile]
        + ["--state", "\(directory)/from-maildir.sqlite"],
      ["verify", backup.archivePath, "maildir:\(maildir)", "--quiet"],
      ["verify", "maildir:\(maildir)", "mbox:\(mbox)", "--quiet"],
    ]
    for command in commands {
      let (result, peakKiB) = try runMeasuringPeak(command)
      #expect(result.status == 0, "\(command.prefix(4)): \(result.stdout)\(result.stderr)")
      print("mailferry \(command.prefix(4).joined(separator: " ")): peak resident \(peakKiB ?? -1) KiB")
      #expect((peakKiB ?? .max) < Self.peakBoundKiB, "\(command.prefix(4)): peak resident \(peakKiB ?? -1) KiB")
      try expectNoSpoolFileLeft(command[0])
    }
    #expect(try Self.maildirHashes(maildir) == hashes)
    #expect(try Self.mboxHashes(mbox) == hashes)
    #expect(try backup.contents(target).values.flatMap { $0.map { String($0.prefix(64)) } }.sorted() == hashes)
  }

  /// A large copy altered in the middle: `verify` names the first byte that differs,
  /// comparing both copies a chunk at a time within the memory bound.
  @Test func verifyNamesTheFirstDifferenceOfAnAlteredLargeCopy() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fillSource(megabytes: 48)
    #expect(try run(backupCommand).status == 0)
    let maildir = "\(directory)/export-maildir"
    #expect(try run(["export", backup.archivePath, maildir, "--format", "maildir", "--quiet"]).status == 0)
    let large = try #require(
      try Self.messageFiles(maildir).first {
        (try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int)! > 40 << 20
      })
    let file = try #require(FileHandle(forUpdatingAtPath: large))
    var offset: UInt64 = 30_000_000
    try file.seek(toOffset: offset)
    while let byte = try file.read(upToCount: 1)?.first, !(0x61...0x7A).contains(byte) { offset += 1 }
    try file.seek(toOffset: offset)
    file.write(Data("#".utf8))
    try file.close()

    let (result, peakKiB) = try runMeasuringPeak(["verify", backup.archivePath, "maildir:\(maildir)"])
    print("mailferry verify with an altered 48 MiB copy: peak resident \(peakKiB ?? -1) KiB")
    #expect(result.status == 1, "\(result.stderr)")
    #expect(result.stderr.contains("was altered in INBOX"), "\(result.stderr)")
    #expect(result.stderr.contains("first difference at byte \(offset): sent 0x"), "\(result.stderr)")
    #expect(result.stderr.contains("stored 0x23 '#'"), "\(result.stderr)")
    #expect((peakKiB ?? .max) < Self.peakBoundKiB, "peak resident \(peakKiB ?? -1) KiB")
    try expectNoSpoolFileLeft("verify")
  }

  /// `--spool-dir` that cannot be written stops the job before anything moves, with exit
  /// status 74 and a hint naming the option; one that can be written is used instead of
  /// `TMPDIR` (here a directory that does not exist), and nothing is lost.
  @Test func anUnwritableSpoolDirIsAClearErrorAndLosesNothing() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fillSource()
    let source = try backup.contents(backup.sourceUser)
    let target = try backup.server.createUser("bigspooldir")
    try backup.password(target, name: "target")
    let missing = "\(directory)/no-such-directory"
    let refused = try run(migrateCommand(to: target) + ["--spool-dir", missing])
    #expect(refused.status == 74, "\(refused.stderr)")
    #expect(refused.stderr.contains("error: spool file for a large message in \(missing)"), "\(refused.stderr)")
    #expect(refused.stderr.contains("hint: ") && refused.stderr.contains("--spool-dir"), "\(refused.stderr)")
    #expect(try backup.contents(target).isEmpty)

    let moved = try run(migrateCommand(to: target) + ["--spool-dir", spool], environment: ["TMPDIR": missing])
    #expect(moved.status == 0, "\(moved.stderr)")
    #expect(try backup.contents(target) == source)
    try expectNoSpoolFileLeft("a run with --spool-dir")
  }

  /// Every message file of a Maildir++ tree (its `cur/` and `new/` directories).
  static func messageFiles(_ root: String) throws -> [String] {
    let all = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
    return all.filter { path in
      let parent = (path as NSString).deletingLastPathComponent
      return (parent as NSString).lastPathComponent == "cur" || (parent as NSString).lastPathComponent == "new"
    }.map { "\(root)/\($0)" }
  }

  static func maildirHashes(_ root: String) throws -> [String] {
    try messageFiles(root).map { ContentHasher.hash(try Array(Data(contentsOf: URL(fileURLWithPath: $0)))).hex }
      .sorted()
  }

  /// The messages of every mbox file under `root`.
  static func mboxHashes(_ root: String) throws -> [String] {
    let all = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
    var hashes: [String] = []
    for path in all where !path.hasSuffix(".sbd") && !(path as NSString).lastPathComponent.hasPrefix(".") {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: "\(root)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue
      else { continue }
      var splitter = MboxSplitter()
      let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: "\(root)/\(path)")))
      splitter.feed(bytes) { hashes.append(ContentHasher.hash($0.message).hex) }
      splitter.finish { hashes.append(ContentHasher.hash($0.message).hex) }
    }
    return hashes.sorted()
  }
}
