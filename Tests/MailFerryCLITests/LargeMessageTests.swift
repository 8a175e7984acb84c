import Archive
import Foundation
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing

/// Messages larger than the spool threshold (4 MiB) go through a private spool file, never
/// held whole (docs/architecture.md, "How bodies flow"): the built binary migrates, backs up
/// and restores them byte for byte against the private Dovecot, leaves no spool file behind
/// (not even when killed), stops with exit status 74 when the spool cannot be written, and
/// copies a large message within a memory bound. `MAILFERRY_BINARY` runs another build
/// (an older one, to measure what changed).
@Suite(.serialized) struct LargeMessageTests {
  let backup: BackupCommandTests
  let binary: String

  init() throws {
    backup = try BackupCommandTests()
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    binary =
      ProcessInfo.processInfo.environment["MAILFERRY_BINARY"]
      ?? root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
  }

  var directory: String { backup.directory }
  /// `TMPDIR` of every run: where spool files would be left.
  var spool: String { "\(directory)/spool" }

  /// A message of at least `megabytes` MiB whose body has lines an archive must quote.
  static func largeMessage(number: Int, megabytes: Int) -> [UInt8] {
    var bytes = Array(
      """
      From: Big Sender <big@example.org>\r
      To: Someone <someone@example.net>\r
      Subject: large message \(number)\r
      Message-ID: <large-\(number)@example.org>\r
      Date: Tue, 5 Mar 2024 14:07:09 +0100\r
      \r

      """.utf8)
    let lines = [
      "From the archive's point of view this line is quoted.\r\n",
      ">From and this one gets one more quote.\r\n",
      "Line \(number) of a large message, long enough to add up to megabytes quickly.\r\n",
    ].map { Array($0.utf8) }
    bytes.reserveCapacity(megabytes << 20 + 200)
    var index = 0
    while bytes.count < megabytes << 20 {
      bytes += lines[index % 3 == 0 ? 0 : index % 7 == 0 ? 1 : 2]
      index += 1
    }
    return bytes
  }

  /// Three ordinary messages and two large ones in INBOX, one ordinary message in Lists.
  func fillSource(megabytes: Int = 5) throws {
    try backup.fill(backup.sourceUser, folders: ["INBOX": 3, "Lists": 1])
    let client = try backup.client(backup.sourceUser)
    defer { client.logout() }
    try client.append(
      [1, 2].map { MessageToStore(bytes: Self.largeMessage(number: $0, megabytes: megabytes), flags: ["\\Seen"]) },
      to: client.mailboxName("INBOX"))
  }

  func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Subprocess.Result {
    try Subprocess.run([binary] + arguments, environment: ["TMPDIR": spool].merging(environment) { $1 }, check: false)
  }

  /// Under what holding one 48 MiB message twice would take.
  static let peakBoundKiB = 80 * 1024

  /// Runs the binary under `/usr/bin/time`: its result and peak resident size in KiB.
  func runMeasuringPeak(_ command: [String]) throws -> (result: Subprocess.Result, peakKiB: Int?) {
    let peakFile = "\(directory)/peak"
    let result = try Subprocess.run(
      ["/usr/bin/time", "-f", "%M", "-o", peakFile, binary] + command, environment: ["TMPDIR": spool], check: false)
    let reported = (try? String(contentsOfFile: peakFile, encoding: .utf8)) ?? ""
    return (result, reported.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) })
  }

  func expectNoSpoolFileLeft(_ after: String) throws {
    #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty, "spool files left after \(after)")
  }

  func migrateCommand(to target: DovecotServer.User) -> [String] {
    ["migrate", backup.url(backup.sourceUser), backup.url(target), "--quiet", "--connections", "1"]
      + ["--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw"]
      + ["--ca-file", backup.server.caFile, "--state", "\(directory)/migrate.sqlite"]
  }

  /// With `--verify`: the archive reads each large copy back through a spool file.
  var backupCommand: [String] {
    ["backup", backup.url(backup.sourceUser), backup.archivePath, "--quiet", "--verify"] + backup.sourceOptions
  }

  func archivedHashes() throws -> [String: [String]] {
    let archive = try Archive(path: backup.archivePath, create: false)
    var result: [String: [String]] = [:]
    for folder in try archive.folders() where try archive.messageCount(folder) > 0 {
      result[folder.name] = try archive.allMessages(folder).map(\.sha256.hex).sorted()
    }
    return result
  }

  @Test func largeMessagesMigrateBackUpAndRestoreByteForByte() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fillSource()
    let source = try backup.contents(backup.sourceUser)
    #expect(source["INBOX"]?.count == 5)

    let target = try backup.server.createUser("bigdst")
    try backup.password(target, name: "target")
    let migrated = try run(migrateCommand(to: target))
    #expect(migrated.status == 0, "\(migrated.stderr)")
    #expect(try backup.contents(target) == source)
    try expectNoSpoolFileLeft("migrate")

    let backedUp = try run(backupCommand)
    #expect(backedUp.status == 0, "\(backedUp.stderr)")
    #expect(try archivedHashes() == source.mapValues { $0.map { String($0.prefix(64)) }.sorted() })
    let verified = try run(["archive", "verify", backup.archivePath])
    #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    try expectNoSpoolFileLeft("backup")

    let restoreTarget = try backup.server.createUser("bigrst")
    try backup.password(restoreTarget, name: "restore")
    let restored = try run(
      ["restore", backup.archivePath, backup.url(restoreTarget), "--quiet"] + backup.restoreOptions("restore")
        + ["--state", "\(directory)/restore.sqlite"])
    #expect(restored.status == 0, "\(restored.stderr)")
    #expect(try backup.contents(restoreTarget) == source)
    try expectNoSpoolFileLeft("restore")
  }

  /// POP3 RETR spooled through the dot-unstuffer, LMTP DATA dot-stuffed from the spool:
  /// each delivered copy ends in the original's exact bytes (LMTP adds its trace fields).
  @Test func largeMessagesGoFromPOP3ToLMTPByteForByte() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fillSource()
    let originals = try messages(of: backup.sourceUser)
    let recipient = try backup.server.createUser("biglmtp")
    let delivered = try run(
      [
        "migrate", "pop3s://\(backup.sourceUser.name)@localhost:\(backup.server.pop3sPort)",
        "lmtp://localhost:\(backup.server.lmtpPort)", "--quiet", "--rcpt", PostfixServer.address(of: recipient.name),
        "--mail-from", "sender@example.org", "--source-password-file", "\(directory)/source.pw",
        "--ca-file", backup.server.caFile, "--state", "\(directory)/lmtp.sqlite",
      ])
    #expect(delivered.status == 0, "\(delivered.stderr)")
    try expectNoSpoolFileLeft("POP3 to LMTP")
    let arrived = try messages(of: recipient)
    #expect(arrived.count == originals.count)
    #expect(originals.filter { $0.count > 4 << 20 }.count == 2)
    for original in originals {
      #expect(
        arrived.filter { $0.count >= original.count && $0.suffix(original.count).elementsEqual(original) }.count == 1)
    }
  }

  /// The bytes of every message in `user`'s INBOX.
  func messages(of user: DovecotServer.User) throws -> [[UInt8]] {
    let client = try backup.client(user)
    defer { client.logout() }
    try client.select(client.mailboxName("INBOX"), readOnly: true)
    let uids = try client.uidSearch(.all)
    return uids.isEmpty ? [] : try client.fetchMessages(uids).map(\.bytes)
  }

  /// Killed with a large message stored but not committed (and, for the archive, written but
  /// not committed): no spool file survives, and the next run finishes exactly.
  @Test func aKilledRunLeavesNoSpoolFileAndTheNextRunIsExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fillSource()
    let source = try backup.contents(backup.sourceUser)
    let target = try backup.server.createUser("bigkill")
    try backup.password(target, name: "target")
    for (command, point) in [(migrateCommand(to: target), CrashPoint.afterStore), (backupCommand, .afterManifest)] {
      let killed = try run(command, environment: ["MAILFERRY_CRASH_AT": "\(point.rawValue):1"])
      #expect(killed.status == 128 + SIGKILL, "\(command[0]) did not die at \(point.rawValue): \(killed.stderr)")
      try expectNoSpoolFileLeft("a kill at \(point.rawValue)")
      let resumed = try run(command)
      #expect(resumed.status == 0, "\(command[0]) after \(point.rawValue): \(resumed.stderr)")
    }
    #expect(try backup.contents(target) == source)
    #expect(try archivedHashes() == source.mapValues { $0.map { String($0.prefix(64)) }.sorted() })
    let verified = try run(["archive", "verify", backup.archivePath])
    #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
  }

  /// A spool that cannot grow (a file size limit of 1 MiB: writes fail as on a full disk):
  /// a clear error naming the spool, exit status 74, nothing copied from the failed batch,
  /// and the next run copies everything exactly once.
  @Test func aFullSpoolStopsTheJobWithExitStatus74AndLosesNothing() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fillSource()
    let source = try backup.contents(backup.sourceUser)
    let target = try backup.server.createUser("bigfull")
    try backup.password(target, name: "target")
    let command = migrateCommand(to: target)
    // `ulimit -f` counts 512-byte blocks in sh.
    let full = try Subprocess.run(
      ["/bin/sh", "-c", "trap '' XFSZ; ulimit -f 2048; exec \"$@\"", "sh", binary] + command,
      environment: ["TMPDIR": spool], check: false)
    #expect(full.status == 74, "\(full.stderr)")
    #expect(
      full.stderr.contains("error: the job stopped: spool file for a large message in \(spool)"), "\(full.stderr)")
    #expect(full.stderr.contains("hint: "), "\(full.stderr)")
    try expectNoSpoolFileLeft("a full spool")
    #expect((try backup.contents(target)["INBOX"] ?? []).count < 5)

    let again = try run(command)
    #expect(again.status == 0, "\(again.stderr)")
    #expect(try backup.contents(target) == source)
  }

  /// Two messages of 48 MiB copied with a peak resident size well under what holding one of
  /// them twice would take (this bound is on memory, not on time).
  @Test func largeMessagesAreCopiedWithinAMemoryBound() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fillSource(megabytes: 48)
    let source = try backup.contents(backup.sourceUser)
    let target = try backup.server.createUser("bigmem")
    try backup.password(target, name: "target")
    for command in [migrateCommand(to: target), backupCommand] {
      let (result, peakKiB) = try runMeasuringPeak(command)
      #expect(result.status == 0, "\(result.stderr)")
      print("mailferry \(command[0]) of two 48 MiB messages: peak resident \(peakKiB ?? -1) KiB")
      #expect((peakKiB ?? .max) < Self.peakBoundKiB, "\(command[0]): peak resident \(peakKiB ?? -1) KiB")
    }
    #expect(try backup.contents(target) == source)
    #expect(try archivedHashes() == source.mapValues { $0.map { String($0.prefix(64)) }.sorted() })
  }
}
