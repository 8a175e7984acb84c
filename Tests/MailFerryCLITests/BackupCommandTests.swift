import Archive
import Foundation
import IMAPCodec
import IMAPEndpoint
import LocalEndpoint
import MailCore
import ServerFixtures
import Storage
import Testing
import Transport

@testable import MailFerryCLI

/// `backup`, `restore` and `archive …` end to end against the private Dovecot.
@Suite struct BackupCommandTests {
  let server: DovecotServer
  let sourceUser: DovecotServer.User
  let directory: String

  init() throws {
    server = try DovecotServer.shared()
    sourceUser = try server.createUser("bsrc")
    directory = NSTemporaryDirectory() + "mailferry-backup-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try password(sourceUser, name: "source")
  }

  func password(_ user: DovecotServer.User, name: String) throws {
    try Data(user.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
    chmod("\(directory)/\(name).pw", 0o600)
  }

  func url(_ user: DovecotServer.User) -> String { "imaps://\(user.name)@localhost:\(server.imapsPort)" }
  var archivePath: String { "\(directory)/archive" }
  var sourceOptions: [String] { ["--source-password-file", "\(directory)/source.pw", "--ca-file", server.caFile] }
  func restoreOptions(_ target: String) -> [String] {
    ["--target-password-file", "\(directory)/\(target).pw", "--ca-file", server.caFile]
  }

  func client(_ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile)))
    try client.login(.password(user.password))
    return client
  }

  /// Folder → sorted "hash flags date" lines: what must survive a backup and a restore.
  func contents(_ user: DovecotServer.User) throws -> [String: [String]] {
    let client = try client(user)
    defer { client.logout() }
    var result: [String: [String]] = [:]
    for folder in try client.listFolders() where folder.isSelectable {
      try client.select(folder.name, readOnly: true)
      let uids = try client.uidSearch(.all)
      guard !uids.isEmpty else { continue }
      let metadata = Dictionary(
        try client.fetchMetadata(.uids(uids)).map { ($0.uid, $0) }, uniquingKeysWith: { first, _ in first })
      result[folder.displayName] = try client.fetchMessages(uids).map { message in
        let info = metadata[message.uid]
        let flags = (info?.flags ?? []).filter { $0 != "\\Recent" }.sorted().joined(separator: ",")
        return "\(ContentHasher.hash(message.bytes).hex) \(flags) \(info?.internalDate?.secondsSince1970 ?? -1)"
      }.sorted()
    }
    return result
  }

  static let day: Int64 = 86400
  static let start: Int64 = 1_725_148_800  // 2024-09-01 00:00:00 UTC

  /// Messages with distinct dates (one a day from 2024-09-01), flags and a keyword; the same
  /// message in INBOX and Sent, and a body with lines that need mboxrd quoting.
  func fill(_ user: DovecotServer.User, folders: [String: Int], offset: Int = 0, bodyLines: Int = 30) throws {
    let client = try client(user)
    defer { client.logout() }
    for (folder, count) in folders.sorted(by: { $0.key < $1.key }) {
      if folder != "INBOX" { _ = try? client.create(client.mailboxName(folder), separator: "/") }
      let messages = (1...count).map { index in
        let number = index + offset
        let flags = [number % 2 == 0 ? "\\Seen" : nil, number % 5 == 0 ? "$Project" : nil].compactMap { $0 }
        return MessageToStore(
          bytes: Self.message(folder: folder, number: number, bodyLines: bodyLines), flags: flags,
          receivedDate: ReceivedDate(secondsSince1970: Self.start + Int64(number) * Self.day, zoneMinutes: 120))
      }
      try client.append(messages, to: client.mailboxName(folder))
    }
  }

  static func message(folder: String, number: Int, bodyLines: Int = 30) -> [UInt8] {
    let shared = number == 1  // message 1 is the same in every folder
    return Array(
      ("From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: \(shared ? "shared" : folder) \(number)\r\n"
        + "Message-ID: <\(shared ? "shared" : "\(folder.hashValue)")-\(number)@example.org>\r\n\r\n"
        + "Hello \(number)\r\nFrom here a line that mboxrd quotes\r\n>From and one quoted already\r\n"
        + String(repeating: "some text to compress in message \(number)\r\n", count: bodyLines)).utf8)
  }

  @Test func backupIsIncrementalAndRestoresOneFolderAndADateRange() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(sourceUser, folders: ["INBOX": 6, "Sent": 3, "Projekte/Größe & Co": 4])
    let first = CapturedRun(["backup", url(sourceUser), archivePath] + sourceOptions)
    #expect(first.status == .success, "\(first.err)")
    #expect(try FileSecurity.permissions(ofPath: archivePath) == 0o700)
    #expect(try FileSecurity.permissions(ofPath: archivePath + "/catalog.sqlite") == 0o600)
    let listed = CapturedRun(["archive", "list", archivePath])
    #expect(listed.status == .success)
    #expect(listed.out.contains("Projekte/Größe & Co"))
    #expect(listed.out.contains("2024-09-02"))  // oldest date
    #expect(listed.out.split(separator: "\n").last?.split(separator: " ").first == "13")

    // Nothing new: nothing stored, nothing printed with --quiet.
    let again = CapturedRun(["backup", url(sourceUser), archivePath, "--quiet"] + sourceOptions)
    #expect(again.status == .success)
    #expect(again.out.isEmpty && again.err.isEmpty, "\(again.out)\(again.err)")
    try fill(sourceUser, folders: ["INBOX": 2], offset: 100)
    let third = CapturedRun(["backup", url(sourceUser), archivePath, "--json"] + sourceOptions)
    #expect(third.out.contains("\"copied\":2"), "\(third.out)")

    // The shared message is stored once, and listed in each folder.
    let archive = try Archive(path: archivePath, create: false)
    let shared = try archive.search(
      {
        var query = ArchiveQuery()
        query.messageID = "<shared-1@example.org>"
        return query
      }())
    #expect(Set(shared.map(\.folder)) == ["INBOX", "Sent", "Projekte/Größe & Co"])
    #expect(Set(shared.map(\.location)).count == 1)
    #expect(shared.allSatisfy { $0.origin?.account == url(sourceUser) && $0.origin?.uid == 1 })
    #expect(try archive.folder(named: "Sent")?.specialUse == "\\Sent")
    let found = CapturedRun(["archive", "search", archivePath, "--subject", "PROJEKTE/GRÖßE", "--since", "2024-09-04"])
    #expect(found.err.contains("2 message(s)"), "\(found.out)\(found.err)")
    #expect(CapturedRun(["archive", "verify", archivePath]).status == .success)

    // One folder into a fresh account: same bytes, flags and dates.
    let folderTarget = try server.createUser("brst")
    try password(folderTarget, name: "one")
    let restored = CapturedRun(
      ["restore", archivePath, url(folderTarget), "--folder", "Projekte/Größe & Co"] + restoreOptions("one"))
    #expect(restored.status == .success, "\(restored.err)")
    let source = try contents(sourceUser)
    let afterFolder = try contents(folderTarget)
    #expect(afterFolder["Projekte/Größe & Co"] == source["Projekte/Größe & Co"])
    #expect(afterFolder["INBOX"] == nil && afterFolder["Sent"] == nil)

    // A date range (2024-09-03 up to, not including, 2024-09-06) from every folder into one.
    let rangeTarget = try server.createUser("brng")
    try password(rangeTarget, name: "range")
    let ranged = CapturedRun(
      [
        "restore", archivePath, url(rangeTarget), "--since", "2024-09-03", "--before", "2024-09-06", "--to-folder",
        "Restored",
      ] + restoreOptions("range"))
    #expect(ranged.status == .success, "\(ranged.err)")
    let inRange = source.values.flatMap { $0 }.filter { line in
      let date = Int64(line.split(separator: " ").last!)!
      return date >= Self.start + 2 * Self.day && date < Self.start + 5 * Self.day
    }
    #expect(inRange.count == 8)  // messages 2, 3 and 4 of INBOX and Projekte, 2 and 3 of Sent
    #expect(try contents(rangeTarget)["Restored"] == inRange.sorted())
    // Restoring again adds nothing.
    let twice = CapturedRun(
      [
        "restore", archivePath, url(rangeTarget), "--since", "2024-09-03", "--before", "2024-09-06", "--to-folder",
        "Restored", "--quiet",
      ] + restoreOptions("range"))
    #expect(twice.status == .success)
    #expect(try contents(rangeTarget)["Restored"]?.count == 8)

    // A lost catalog is rebuilt from the data files with the same content.
    let listing = CapturedRun(["archive", "list", archivePath]).out
    for suffix in ["", "-wal", "-shm"] {
      try? FileManager.default.removeItem(atPath: archivePath + "/catalog.sqlite" + suffix)
    }
    let missing = CapturedRun(["archive", "list", archivePath])
    #expect(missing.status == .dataError)
    #expect(missing.err.contains("has data files but no catalog.sqlite"))
    #expect(missing.err.contains("mailferry archive reindex"))
    let reindexed = CapturedRun(["archive", "reindex", archivePath])
    #expect(reindexed.status == .success, "\(reindexed.err)")
    #expect(reindexed.err.contains("indexed 15 message(s)"), "\(reindexed.err)")
    #expect(CapturedRun(["archive", "list", archivePath]).out == listing)
    #expect(CapturedRun(["archive", "verify", archivePath]).status == .success)

    // One flipped byte in a data file: verify names the file and fails.
    let data = archivePath + "/folders/INBOX/000001.mbox.gz"
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data)))
    bytes[bytes.count / 2] ^= 0x01
    try Data(bytes).write(to: URL(fileURLWithPath: data))
    let damaged = CapturedRun(["archive", "verify", archivePath])
    #expect(damaged.status == .dataError)
    #expect(damaged.err.contains("folders/INBOX/000001.mbox.gz: the gzip member at byte"), "\(damaged.err)")
  }

  @Test func aPOP3MaildropIsBackedUpOnceAndFoundBySender() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for number in 1...30 {
      try server.deliver(
        Array(
          "From: \(number % 3 == 0 ? "carol" : "dave")@example.org\r\nSubject: pop \(number)\r\n\r\nbody \(number)\r\n"
            .utf8), to: sourceUser.name)
    }
    let pop3s = "pop3s://\(sourceUser.name)@localhost:\(server.pop3sPort)"
    let first = CapturedRun(["backup", pop3s, archivePath] + sourceOptions)
    #expect(first.status == .success, "\(first.err)")
    #expect(first.out.split(separator: "\n").last?.split(separator: " ").first == "30")
    let again = CapturedRun(["backup", pop3s, archivePath] + sourceOptions)
    #expect(again.out.split(separator: "\n").last?.split(separator: " ").first == "0")
    let found = CapturedRun(["archive", "search", archivePath, "--from", "CAROL@example.org"])
    #expect(found.err.contains("10 message(s)"))
    let archive = try Archive(path: archivePath, create: false)
    let inbox = try #require(try archive.folder(named: "INBOX"))
    let messages = try archive.allMessages(inbox)
    #expect(messages.count == 30)
    #expect(messages.allSatisfy { $0.origin?.name?.isEmpty == false })  // the UIDL
    #expect(Set(messages.compactMap(\.origin?.name)).count == 30)
  }

  @Test func aSecondRunWhileOneIsGoingStopsAtOnce() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(sourceUser, folders: ["INBOX": 2])
    // A wrong password stops before anything is created.
    try Data("wrong".utf8).write(to: URL(fileURLWithPath: "\(directory)/wrong.pw"))
    let wrong = CapturedRun(
      ["backup", url(sourceUser), archivePath, "--password-file", "\(directory)/wrong.pw", "--ca-file", server.caFile])
    #expect(wrong.status == .noPermission)
    #expect(wrong.err.contains("login as \(sourceUser.name) failed"), "\(wrong.err)")
    #expect(!FileManager.default.fileExists(atPath: archivePath))
    #expect(CapturedRun(["archive", "list", archivePath]).err.contains("holds no MailFerry archive yet"))
    // The only server of a backup takes the plain --password-file.
    let first = CapturedRun(
      ["backup", url(sourceUser), archivePath, "--password-file", "\(directory)/source.pw", "--ca-file", server.caFile])
    #expect(first.status == .success, "\(first.err)")
    let lock = try ExclusiveLock.acquire(path: archivePath + "/lock", purpose: "backup")
    defer { lock.release() }
    let blocked = CapturedRun(["backup", url(sourceUser), archivePath] + sourceOptions)
    #expect(blocked.status == .temporary)
    #expect(blocked.err.contains("is held by another MailFerry run (pid \(getpid()), backup, since"), "\(blocked.err)")
    #expect(blocked.err.contains("hint: the previous run is still going"))
    // An existing archive is locked before the login: the second run stops at once, without
    // logging in (with a wrong password it still says "try later", not "refused").
    let blockedBeforeLogin = CapturedRun(
      ["backup", url(sourceUser), archivePath, "--password-file", "\(directory)/wrong.pw", "--ca-file", server.caFile])
    #expect(blockedBeforeLogin.status == .temporary, "\(blockedBeforeLogin.err)")
    #expect(!blockedBeforeLogin.err.contains("login as"))

    // Not an archive, and a server URL as a backup target, are refused with the reason.
    try Data("x".utf8).write(to: URL(fileURLWithPath: "\(directory)/file.txt"))
    let notArchive = CapturedRun(["backup", url(sourceUser), directory] + sourceOptions)
    #expect(notArchive.status == .dataError)
    #expect(notArchive.err.contains("is not a MailFerry archive"))
    let server = CapturedRun(["backup", url(sourceUser), url(sourceUser)] + sourceOptions)
    #expect(server.err.contains("is not an archive directory"))
    #expect(CapturedRun(["archive", "frobnicate", archivePath]).status == .usage)
  }

  @Test func pythonAndMuttReadADecompressedFolderFile() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(sourceUser, folders: ["INBOX": 12])
    #expect(CapturedRun(["backup", url(sourceUser), archivePath, "--batch", "5"] + sourceOptions).status == .success)
    let archive = try Archive(path: archivePath, create: false)
    let stored = try archive.allMessages(try #require(try archive.folder(named: "INBOX")))
    let expected = try archive.read(stored)
    let plain = try GzipReader.decompress(
      [UInt8](try Data(contentsOf: URL(fileURLWithPath: archivePath + "/folders/INBOX/000001.mbox.gz"))))
    let mbox = "\(directory)/INBOX.mbox"
    try Data(plain).write(to: URL(fileURLWithPath: mbox))

    let python = try Subprocess.run(
      [
        "python3", "-c",
        "import mailbox, sys\nbox = mailbox.mbox(sys.argv[1])\nfor key in box.keys(): print(box.get_bytes(key).hex())",
        mbox,
      ])
    let fromPython = python.stdout.split(separator: "\n").map { Mboxrd.unquote(Self.bytes(fromHex: $0)) }
    #expect(fromPython.count == 12)
    #expect(fromPython == expected)

    // mutt opens it and counts the same messages.
    let session = "mailferry-\(UUID().uuidString.prefix(8))"
    _ = try Subprocess.run(
      [
        "tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "40",
        "env TERM=xterm HOME=\(directory) mutt -n -F /dev/null -e 'set folder=\(directory)' "
          + "-e 'set spoolfile=\(mbox)' -R -f \(mbox)",
      ])
    defer { _ = try? Subprocess.run(["tmux", "kill-session", "-t", session], check: false) }
    var screen = ""
    for _ in 0..<100 where !screen.contains("Msgs:") {
      usleep(100_000)
      screen = (try? Subprocess.run(["tmux", "capture-pane", "-p", "-t", session]).stdout) ?? ""
    }
    #expect(screen.contains("Msgs:12"), "\(screen)")
    #expect(screen.contains("INBOX 12"))
  }

  @Test func killedBackupsAndRestoresLoseAndDoubleNothing() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(sourceUser, folders: ["INBOX": 120, "Archive/2023": 120, "Lists": 80], bodyLines: 500)
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let source = try contents(sourceUser)
    let total = source.values.reduce(0) { $0 + $1.count }

    func archivedCount() -> Int {
      // Read only: the sqlite3 shell would otherwise create the file before the backup does.
      guard FileManager.default.fileExists(atPath: archivePath + "/catalog.sqlite") else { return 0 }
      let result = try? Subprocess.run(
        ["sqlite3", "-readonly", archivePath + "/catalog.sqlite", "SELECT count(*) FROM messages"], check: false)
      return Int(result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
    }
    // One connection and the slowest compression, so kills land while messages move.
    let backup =
      [binary, "backup", url(sourceUser), archivePath, "--quiet", "--batch", "10", "--connections", "1"]
      + ["--compression", "9"] + sourceOptions
    let backupKills = try killRepeatedly(
      backup, rounds: 8, progress: archivedCount, total: total, states: { [archivePath + "/state"] })
    let finalBackup = try Subprocess.run(backup, check: false)
    #expect(finalBackup.status == 0, "\(finalBackup.stderr)")
    let archive = try Archive(path: archivePath, create: false)
    var archived: [String: [String]] = [:]
    for folder in try archive.folders() where try archive.messageCount(folder) > 0 {
      archived[folder.name] = try archive.allMessages(folder).map(\.sha256.hex).sorted()
    }
    let expected = source.mapValues { $0.map { String($0.prefix(64)) }.sorted() }
    #expect(archived == expected, "\(archived.mapValues(\.count)) vs \(expected.mapValues(\.count))")
    #expect(try archive.verify().isIntact)

    let target = try server.createUser("bkill")
    try password(target, name: "kill")
    let restoreState = "\(directory)/restore.sqlite"
    let restore =
      [binary, "restore", archivePath, url(target), "--quiet", "--batch", "10", "--state", restoreState]
      + restoreOptions("kill")
    // Progress by STATUS counts: fetching every message to count them would be slower than
    // the restore itself on a loaded machine, and the kills would land after it finished.
    let restoreKills = try killRepeatedly(
      restore, rounds: 8, progress: { (try? storedCount(target)) ?? 0 }, total: total, states: { [restoreState] })
    let finalRestore = try Subprocess.run(restore, check: false)
    #expect(finalRestore.status == 0, "\(finalRestore.stderr)")
    let restored = try contents(target)
    #expect(restored == source, "\(restored.mapValues(\.count)) vs \(source.mapValues(\.count))")
    #expect(backupKills.partial > 0 && restoreKills.partial > 0, "no kill interrupted a transfer")
    // At least one kill landed between a batch's intent and its commit (pending rows left in
    // the checkpoint); CrashPointTests cover that window deterministically, point by point.
    #expect(backupKills.inFlight > 0 && restoreKills.inFlight > 0, "no kill left a batch in flight")
    print("backup kills:", backupKills, "restore kills:", restoreKills)
  }

  /// A damaged gzip member: its messages are reported as not moved, every other message is
  /// restored, and a second run neither doubles nor loses anything.
  @Test func aDamagedMemberFailsOnlyItsOwnMessagesOnRestore() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(sourceUser, folders: ["INBOX": 10])
    let backup = CapturedRun(["backup", url(sourceUser), archivePath, "--batch", "5"] + sourceOptions)
    #expect(backup.status == .success, "\(backup.err)")
    let data = archivePath + "/folders/INBOX/000001.mbox.gz"
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data)))
    bytes[60] ^= 0xFF  // inside the first member's compressed data
    try Data(bytes).write(to: URL(fileURLWithPath: data))

    let target = try server.createUser("bdmg")
    try password(target, name: "damaged")
    let arguments = ["restore", archivePath, url(target), "--folder", "INBOX"] + restoreOptions("damaged")
    let restored = CapturedRun(arguments)
    #expect(restored.status == .partial, "\(restored.err)")
    #expect(restored.err.contains("did not move: cannot be read from the source"), "\(restored.err)")
    #expect(restored.err.contains("000001.mbox.gz"))
    #expect(try contents(target)["INBOX"]?.count == 5)
    let again = CapturedRun(arguments)
    #expect(again.status == .partial)
    #expect(try contents(target)["INBOX"]?.count == 5)
  }

  /// A disk that fills up mid-backup (simulated with a file size limit, so writes fail as
  /// they would on a full disk): a clear error, and the next run finishes the job with every
  /// message exactly once.
  @Test func aFullDiskStopsTheBackupWithAnErrorAndLosesNothing() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(sourceUser, folders: ["INBOX": 60, "Lists": 40], bodyLines: 300)
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let backup = [binary, "backup", url(sourceUser), archivePath, "--batch", "10"] + sourceOptions
    // `ulimit -f` counts 512-byte blocks in sh: no file may grow past 256 KiB.
    let full = try Subprocess.run(
      ["/bin/sh", "-c", "trap '' XFSZ; ulimit -f 512; exec \"$@\"", "sh"] + backup, check: false)
    #expect(full.status != 0)
    #expect(full.stderr.contains("error:"), "\(full.stderr)")
    #expect(full.stderr.contains("File too large") || full.stderr.contains("disk"), "\(full.stderr)")
    // A local file error reaches the whole job: it stops instead of failing folder after folder.
    #expect(full.stderr.contains("error: the job stopped: "), "\(full.stderr)")
    #expect(full.status == 74, "a full disk is a local I/O error")
    let partial = try Archive(path: archivePath, create: false)
    let stored = try partial.folders().reduce(0) { $0 + (try partial.messageCount($1)) }
    #expect(stored < 100)

    let rest = try Subprocess.run(backup, check: false)
    #expect(rest.status == 0, "\(rest.stderr)")
    let archive = try Archive(path: archivePath, create: false)
    var archived: [String: [String]] = [:]
    for folder in try archive.folders() where try archive.messageCount(folder) > 0 {
      archived[folder.name] = try archive.allMessages(folder).map(\.sha256.hex).sorted()
    }
    #expect(archived == (try contents(sourceUser)).mapValues { $0.map { String($0.prefix(64)) }.sorted() })
    #expect(try archive.verify().isIntact)
  }

  /// Messages in all of an account's folders, by STATUS.
  func storedCount(_ user: DovecotServer.User) throws -> Int {
    let client = try client(user)
    defer { client.logout() }
    return try client.listFolders().filter(\.isSelectable).reduce(0) {
      $0 + Int(try client.status($1.name, items: ["MESSAGES"])["MESSAGES"] ?? 0)
    }
  }

  /// Starts `command`, waits until `progress` moves, kills it at a random moment soon after;
  /// `rounds` times, and more (up to twice as many) until a kill has left a batch in flight:
  /// `pending` rows in the checkpoint files `states` gives (files, or directories of them).
  /// Returns how many kills there were, how many left a partial result, and how many a
  /// batch in flight.
  func killRepeatedly(
    _ command: [String], rounds: Int, progress: () -> Int, total: Int, states: () -> [String]
  ) throws -> (
    kills: Int, partial: Int, inFlight: Int
  ) {
    var random = SystemRandomNumberGenerator()
    var kills = 0
    var partial = 0
    var inFlight = 0
    for round in 0..<(2 * rounds) {
      if round >= rounds && inFlight > 0 { break }
      let before = progress()
      if before >= total { break }
      let pid = try Subprocess.start(command, logFile: "\(directory)/kill-\(round).log")
      var status: Int32 = 0
      var exited = false
      for _ in 0..<1000 {
        if waitpid(pid, &status, WNOHANG) == pid {
          exited = true
          break
        }
        if progress() > before { break }
        usleep(5_000)
      }
      if exited { break }
      usleep(
        round % 2 == 0 ? UInt32.random(in: 0...3_000, using: &random) : UInt32.random(in: 0...80_000, using: &random))
      if kill(pid, SIGKILL) == 0 { kills += 1 }
      Subprocess.wait(for: pid)
      let now = progress()
      if now > 0 && now < total { partial += 1 }
      if try Self.pendingRows(in: states()) > 0 { inFlight += 1 }
    }
    return (kills, partial, inFlight)
  }

  /// `pending` message rows in these checkpoint files (or the files of these directories).
  static func pendingRows(in paths: [String]) throws -> Int {
    var files: [String] = []
    for path in paths {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
      files +=
        isDirectory.boolValue
        ? try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".sqlite") }
          .map { "\(path)/\($0)" } : [path]
    }
    return try files.reduce(0) { total, file in
      let result = try Subprocess.run(
        ["sqlite3", "-readonly", file, "SELECT count(*) FROM messages WHERE state = 'pending'"], check: false)
      return total + (Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
    }
  }

  static func bytes(fromHex text: Substring) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
      let next = text.index(index, offsetBy: 2)
      bytes.append(UInt8(text[index..<next], radix: 16)!)
      index = next
    }
    return bytes
  }
}
