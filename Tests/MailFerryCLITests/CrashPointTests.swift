import Archive
import Foundation
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing

/// The built binary killed at each named crash point (`MAILFERRY_CRASH_AT`, docs/checkpoint.md),
/// the first time and a later time it is reached, then resumed by a normal run: every source
/// message ends in the target exactly once, and an archive verifies intact.
@Suite struct CrashPointTests {
  let backup: BackupCommandTests
  let binary: String

  init() throws {
    backup = try BackupCommandTests()
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    binary = root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
  }

  var directory: String { backup.directory }

  /// The points every job passes, and those only a job writing an archive passes.
  static let enginePoints: [CrashPoint] = [.afterIntent, .afterStore, .afterCommit]
  static let archivePoints: [CrashPoint] = [.afterDataWrite, .insideMember, .afterManifest, .insideCatalogCommit]
  /// The first time a point is reached, and a later time (each case moves four batches or
  /// more). A searchable target commits once per read-back group of four batches, so the
  /// later commit is the second: one per folder.
  static func counts(_ point: CrashPoint) -> [Int] { point == .afterCommit ? [1, 2] : [1, 3] }

  /// Every (point, count) case, in order.
  static func cases(_ points: [CrashPoint]) -> [(point: CrashPoint, count: Int)] {
    points.flatMap { point in counts(point).map { (point, $0) } }
  }

  /// Runs `command` armed to die at `point` the `count`th time, checks it died there, then
  /// runs it again unarmed and checks that this run succeeds.
  func crashThenResume(_ command: [String], at point: CrashPoint, count: Int) throws {
    let armed = "\(point.rawValue):\(count)"
    let crashed = try Subprocess.run([binary] + command, environment: ["MAILFERRY_CRASH_AT": armed], check: false)
    #expect(crashed.status == 128 + SIGKILL, "\(command[0]) at \(armed) did not die there: \(crashed.stderr)")
    let resumed = try Subprocess.run([binary] + command, check: false)
    #expect(resumed.status == 0, "\(command[0]) after \(armed): \(resumed.stderr)")
    print("crash point \(armed): \(command[0]) exit \(crashed.status) there, resumed with exit \(resumed.status)")
  }

  /// Folder → sorted content hashes of an archive's catalog.
  func archived(_ path: String) throws -> [String: [String]] {
    let archive = try Archive(path: path, create: false)
    var result: [String: [String]] = [:]
    for folder in try archive.folders() where try archive.messageCount(folder) > 0 {
      result[folder.name] = try archive.allMessages(folder).map(\.sha256.hex).sorted()
    }
    return result
  }

  func expectIntact(_ path: String, after armed: String) throws {
    let verified = try Subprocess.run([binary, "archive", "verify", path], check: false)
    #expect(verified.status == 0, "archive after \(armed): \(verified.stdout)\(verified.stderr)")
  }

  // MARK: Local stores

  @Test func maildirToArchiveAndBackAtEveryCrashPoint() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = "\(directory)/source-maildir"
    let archive = "\(directory)/archive"
    let target = "\(directory)/target-maildir"
    let importing = ["import", "maildir:\(source)", archive, "--quiet", "--batch", "2"]
    let restoring =
      ["restore", archive, "maildir:\(target)", "--quiet", "--batch", "2", "--connections", "1"]
      + ["--state", "\(directory)/restore.sqlite"]
    let engineCases = Self.cases(Self.enginePoints)
    for (round, (point, count)) in Self.cases(Self.enginePoints + Self.archivePoints).enumerated() {
      try LocalMaildir.add(to: source, folders: ["INBOX", "Lists"], count: 4, round: round)
      try crashThenResume(importing, at: point, count: count)
      let armed = "\(point.rawValue):\(count)"
      #expect(try archived(archive) == LocalMaildir.hashes(source), "import after \(armed)")
      try expectIntact(archive, after: armed)
      guard round < engineCases.count else { continue }
      let restoreCase = engineCases[round]
      try crashThenResume(restoring, at: restoreCase.point, count: restoreCase.count)
      #expect(
        try LocalMaildir.hashes(target) == LocalMaildir.hashes(source),
        "restore after \(restoreCase.point.rawValue):\(restoreCase.count)")
    }
  }

  // MARK: The test Dovecot

  @Test func imapToImapAtEveryCrashPoint() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let target = try backup.server.createUser("crashdst")
    try backup.password(target, name: "target")
    let migrate =
      ["migrate", backup.url(backup.sourceUser), backup.url(target), "--quiet", "--batch", "2", "--connections", "1"]
      + ["--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw"]
      + ["--source-ca-file", backup.server.caFile, "--target-ca-file", backup.server.caFile]
      + ["--state", "\(directory)/migrate.sqlite"]
    for (round, (point, count)) in Self.cases(Self.enginePoints).enumerated() {
      try backup.fill(backup.sourceUser, folders: ["INBOX": 4, "Lists": 4], offset: round * 10)
      try crashThenResume(migrate, at: point, count: count)
      #expect(try backup.contents(target) == backup.contents(backup.sourceUser), "after \(point.rawValue):\(count)")
    }
  }

  @Test func imapToArchiveAndBackAtEveryCrashPoint() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let target = try backup.server.createUser("crashrst")
    try backup.password(target, name: "target")
    let archive = backup.archivePath
    let backingUp =
      ["backup", backup.url(backup.sourceUser), archive, "--quiet", "--batch", "2", "--connections", "1"]
      + backup.sourceOptions
    let restoring =
      ["restore", archive, backup.url(target), "--quiet", "--batch", "2", "--connections", "1"]
      + backup.restoreOptions("target") + ["--state", "\(directory)/restore.sqlite"]
    let engineCases = Self.cases(Self.enginePoints)
    for (round, (point, count)) in Self.cases(Self.enginePoints + Self.archivePoints).enumerated() {
      try backup.fill(backup.sourceUser, folders: ["INBOX": 4, "Lists": 4], offset: round * 10)
      try crashThenResume(backingUp, at: point, count: count)
      let armed = "\(point.rawValue):\(count)"
      let source = try backup.contents(backup.sourceUser)
      #expect(try archived(archive) == source.mapValues { $0.map { String($0.prefix(64)) }.sorted() }, "\(armed)")
      try expectIntact(archive, after: armed)
      guard round < engineCases.count else { continue }
      let restoreCase = engineCases[round]
      try crashThenResume(restoring, at: restoreCase.point, count: restoreCase.count)
      #expect(try backup.contents(target) == source, "restore after \(restoreCase.point.rawValue):\(restoreCase.count)")
    }
  }

  @Test func pop3ToImapAtEveryCrashPoint() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let server = backup.server
    let target = try server.createUser("crashpop")
    try backup.password(target, name: "target")
    let migrate =
      [
        "migrate", "pop3s://\(backup.sourceUser.name)@localhost:\(server.pop3sPort)", backup.url(target) + "/From POP",
        "--quiet", "--batch", "2",
      ]
      + ["--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw"]
      + ["--source-ca-file", server.caFile, "--target-ca-file", server.caFile, "--state", "\(directory)/pop.sqlite"]
    for (round, (point, count)) in Self.cases(Self.enginePoints).enumerated() {
      // Five batches: two read-back groups, so two commits.
      for number in 1...10 {
        try server.deliver(
          BackupCommandTests.message(folder: "pop", number: round * 20 + number), to: backup.sourceUser.name)
      }
      try crashThenResume(migrate, at: point, count: count)
      let maildrop = try backup.contents(backup.sourceUser)["INBOX"]?.map { String($0.prefix(64)) }.sorted()
      let copied = try backup.contents(target)["From POP"]?.map { String($0.prefix(64)) }.sorted()
      #expect(copied == maildrop, "after \(point.rawValue):\(count)")
    }
  }
}

extension CrashPointTests {
  /// LMTP cannot be searched afterwards, so a delivery killed after the server accepted it
  /// and before the commit is sent again: exactly the one message in doubt arrives twice
  /// (docs/cli.md), and a kill anywhere else doubles nothing.
  @Test func imapToLMTPDoublesOnlyTheOneMessageInDoubt() throws {
    try crashRoundsDeliveringByLMTP(sessions: 1) { point, doubled, armed in
      #expect(doubled == (point == .afterStore ? 1 : 0), "after \(armed)")
    }
  }

  /// With two delivery sessions two messages are in flight at once: a kill after the
  /// server accepted them doubles that pair and nothing more; a kill anywhere else doubles
  /// nothing, and nothing is ever lost.
  @Test func imapToLMTPWithTwoSessionsDoublesOnlyThePairInDoubt() throws {
    try crashRoundsDeliveringByLMTP(sessions: 2, perRound: 8) { point, doubled, armed in
      #expect(doubled == (point == .afterStore ? 2 : 0), "after \(armed)")
    }
  }

  /// Per engine crash point: `perRound` new source messages (four groups or more), a run
  /// killed there, a run to the end; `check` gets how many messages that round delivered twice.
  private func crashRoundsDeliveringByLMTP(
    sessions: Int, perRound: Int = 4, check: (_ point: CrashPoint, _ doubled: Int, _ armed: String) -> Void
  ) throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let server = backup.server
    let recipient = try server.createUser("crashlmtp")
    let migrate =
      [
        "migrate", backup.url(backup.sourceUser), "lmtp://localhost:\(server.lmtpPort)", "--quiet",
        "--rcpt", PostfixServer.address(of: recipient.name), "--mail-from", "sender@example.org",
        "--connections", "1", "--delivery-sessions", String(sessions),
      ]
      + ["--source-password-file", "\(directory)/source.pw", "--ca-file", server.caFile]
      + ["--state", "\(directory)/lmtp.sqlite"]
    var doublesBefore = 0
    for (round, (point, count)) in Self.cases(Self.enginePoints).enumerated() {
      try backup.fill(backup.sourceUser, folders: ["INBOX": perRound], offset: round * 10 + 1)
      try crashThenResume(migrate, at: point, count: count)
      let originals = try messages(of: backup.sourceUser)
      let delivered = try messages(of: recipient)
      let copies = originals.map { original in
        delivered.filter { $0.suffix(original.count).elementsEqual(original) }.count
      }
      let armed = "\(point.rawValue):\(count)"
      #expect(copies.allSatisfy { $0 >= 1 }, "lost after \(armed)")
      #expect(delivered.count == copies.reduce(0, +), "after \(armed)")
      let doubles = delivered.count - originals.count
      check(point, doubles - doublesBefore, armed)
      doublesBefore = doubles
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
}

/// A Maildir++ tree written and read directly, for tests: INBOX in the root, folder `F` in `.F`.
enum LocalMaildir {
  static func path(_ root: String, folder: String) -> String { folder == "INBOX" ? root : "\(root)/.\(folder)" }

  /// Adds `count` new messages to each folder (distinct per `round`).
  static func add(to root: String, folders: [String], count: Int, round: Int) throws {
    for folder in folders {
      let base = path(root, folder: folder)
      for sub in ["cur", "new", "tmp"] {
        try FileManager.default.createDirectory(atPath: "\(base)/\(sub)", withIntermediateDirectories: true)
      }
      for number in 1...count {
        let bytes = BackupCommandTests.message(folder: folder, number: round * 100 + number, bodyLines: 40)
        let name = "\(1_700_000_000 + round * 100 + number).M\(number)P\(round).test:2,\(number % 2 == 0 ? "S" : "")"
        try Data(bytes).write(to: URL(fileURLWithPath: "\(base)/cur/\(name)"))
      }
    }
  }

  /// Folder → sorted content hashes of the messages in `cur` and `new`.
  static func hashes(_ root: String) throws -> [String: [String]] {
    var result: [String: [String]] = [:]
    let folders =
      ["INBOX"]
      + (try FileManager.default.contentsOfDirectory(atPath: root)).filter { $0.hasPrefix(".") && $0.count > 1 }
      .map { String($0.dropFirst()) }
    for folder in folders {
      var hashes: [String] = []
      for sub in ["cur", "new"] {
        let directory = "\(path(root, folder: folder))/\(sub)"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
          let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)")))
          hashes.append(ContentHasher.hash(bytes).hex)
        }
      }
      if !hashes.isEmpty { result[folder] = hashes.sorted() }
    }
    return result
  }
}
