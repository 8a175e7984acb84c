import Archive
import ArchiveEndpoint
import Engine
import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import Mailstore
import ServerFixtures
import Transport

/// Backs up the benchmark account into an archive with MailFerry's engine (gzip level 6 and
/// level 1), then runs the backup again with nothing new; next to it mbsync writing a Maildir
/// of the same account and `tar czf` of that Maildir. Then the peak memory of the
/// `mailferry backup` binary on an account holding a 30 MB message. Prints figures.
@MainActor func runBackupBenchmark(
  server: DovecotServer, account: IMAPAccount, password: String, messages: Int, bytes: Int
) throws {
  print("")
  print(
    String(
      format: "back up the whole account (%d messages, %.1f MB) into an archive, one round each:", messages,
      Double(bytes) / 1e6))
  for level: Int32 in [6, 1] {
    let directory = NSTemporaryDirectory() + "mailferry-bench-archive-\(getpid())-\(level)"
    try? FileManager.default.removeItem(atPath: directory)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var options = MigrationOptions()
    options.connections = 2
    let migration = Migration(
      source: {
        let client = try IMAPClient.connect(account)
        try client.login(.password(password))
        return IMAPSource(client)
      },
      sink: {
        let archive = try Archive(path: directory, create: true)
        archive.compressionLevel = level
        return ArchiveSink(archive)
      }, sourceIdentity: "bench", targetIdentity: "archive:" + directory, statePath: directory + "-state.sqlite",
      options: options)
    defer { try? FileManager.default.removeItem(atPath: directory + "-state.sqlite") }
    let start = ContinuousClock.now
    let report = try migration.run()
    let elapsed = seconds(ContinuousClock.now - start)
    guard report.isComplete else {
      print("  backup incomplete: \(report.folders.compactMap(\.error))")
      continue
    }
    let stored = directorySize(directory + "/folders")
    print(
      "mailferry backup, gzip level \(level)".padding(toLength: 46, withPad: " ", startingAt: 0)
        + String(
          format: "%8.0f msg/s  %8.1f MB/s  %6.2f s  archive %.1f MB = %.0f%% of the raw bytes",
          Double(report.copied) / elapsed, Double(report.copiedBytes) / 1e6 / elapsed, elapsed, Double(stored) / 1e6,
          Double(stored) / Double(bytes) * 100))
    if level == 6 {
      let again = ContinuousClock.now
      let rerun = try migration.run()
      print(
        "mailferry backup again, nothing new".padding(toLength: 46, withPad: " ", startingAt: 0)
          + String(format: "%6.2f s  (%d stored)", seconds(ContinuousClock.now - again), rerun.copied))
    }
  }
  if let maildir = try mbsyncMaildir(server: server, account: account, password: password) {
    defer { try? FileManager.default.removeItem(atPath: maildir.directory) }
    print(
      "peer: mbsync (isync) to Maildir".padding(toLength: 46, withPad: " ", startingAt: 0)
        + String(
          format: "%8.0f msg/s  %8.1f MB/s  %6.2f s  Maildir %.1f MB", Double(maildir.files) / maildir.seconds,
          Double(bytes) / 1e6 / maildir.seconds, maildir.seconds, Double(directorySize(maildir.path)) / 1e6))
    let tarball = maildir.directory + "/mail.tar.gz"
    let start = ContinuousClock.now
    let tar = try Subprocess.run(["tar", "czf", tarball, "-C", maildir.directory, "mail"], check: false)
    let elapsed = seconds(ContinuousClock.now - start)
    if tar.status == 0 {
      let size = directorySize(tarball)
      print(
        "peer: tar czf of that Maildir".padding(toLength: 46, withPad: " ", startingAt: 0)
          + String(
            format: "%8.0f msg/s  %8.1f MB/s  %6.2f s  tarball %.1f MB = %.0f%% of the raw bytes",
            Double(maildir.files) / elapsed, Double(bytes) / 1e6 / elapsed, elapsed, Double(size) / 1e6,
            Double(size) / Double(bytes) * 100))
    }
  } else {
    print("peer: mbsync (isync)".padding(toLength: 46, withPad: " ", startingAt: 0) + "not installed or failed")
  }
  try measureBackupMemory(server: server)
}

/// mbsync pulling the account into a fresh Maildir, timed; the Maildir is left for tar.
@MainActor func mbsyncMaildir(
  server: DovecotServer, account: IMAPAccount, password: String
) throws -> (
  directory: String, path: String, files: Int, seconds: Double
)? {
  guard Subprocess.exists("mbsync") else { return nil }
  let directory = NSTemporaryDirectory() + "mailferry-bench-mbsync-backup-\(getpid())"
  try? FileManager.default.removeItem(atPath: directory)
  try FileManager.default.createDirectory(atPath: directory + "/mail", withIntermediateDirectories: true)
  let config =
    mbsyncIMAPStore("remote", port: account.port, user: account.user, password: password, caFile: server.caFile)
      + """
      MaildirStore local
      Path \(directory)/mail/
      Inbox \(directory)/mail/INBOX
      SubFolders Verbatim

      Channel bench
      Far :remote:
      Near :local:
      Patterns *
      Create Near
      Sync Pull
      SyncState *

      """
  try config.write(toFile: directory + "/mbsyncrc", atomically: true, encoding: .utf8)
  let start = ContinuousClock.now
  let result = try Subprocess.run(["mbsync", "-q", "-c", directory + "/mbsyncrc", "bench"], check: false)
  let elapsed = seconds(ContinuousClock.now - start)
  guard result.status == 0 else {
    print("  mbsync failed: \(result.stderr.prefix(300))")
    try? FileManager.default.removeItem(atPath: directory)
    return nil
  }
  let files =
    FileManager.default.enumerator(atPath: directory + "/mail")?.compactMap { $0 as? String }
    .filter { $0.contains("/cur/") || $0.contains("/new/") }.count ?? 0
  return (directory, directory + "/mail", files, elapsed)
}

/// Peak resident memory of the real binary backing up 200 ordinary messages, then the same
/// plus one 30 MB message: memory follows the largest message, not the account.
@MainActor func measureBackupMemory(server: DovecotServer) throws {
  let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
    "mailferry"
  ).path
  guard FileManager.default.isExecutableFile(atPath: binary) else {
    print("peak memory: \(binary) is missing (make bench builds it)")
    return
  }
  let user = try server.createUser("bigbench")
  let client = try IMAPClient.connect(
    IMAPAccount(
      host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile),
      compress: false))
  try client.login(.password(user.password))
  let corpus = SyntheticMail(seed: 7)
  try client.append((0..<200).map { MessageToStore(bytes: corpus.message(number: $0)) }, to: MailboxName("INBOX"))
  let work = NSTemporaryDirectory() + "mailferry-bench-memory-\(getpid())"
  try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: work) }
  try Data(user.password.utf8).write(to: URL(fileURLWithPath: work + "/pw"))
  /// A fresh python3 runs the binary and reports its children's peak RSS (KiB), so nothing
  /// else this benchmark started is counted.
  func peak(_ label: String, archive: String) throws {
    let result = try Subprocess.run(
      [
        "python3", "-c",
        "import resource, subprocess, sys\nstatus = subprocess.run(sys.argv[1:]).returncode\n"
          + "print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
        binary, "backup", "imaps://\(user.name)@localhost:\(server.imapsPort)", archive, "--quiet",
        "--source-password-file", work + "/pw", "--ca-file", server.caFile,
      ], check: false)
    let fields = result.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    guard fields.count == 2, fields[0] == "0", let kib = Double(fields[1]) else {
      print("peak memory, \(label): the backup failed: \(result.stdout) \(result.stderr.prefix(300))")
      return
    }
    print(
      "peak memory of mailferry backup, \(label)".padding(toLength: 66, withPad: " ", startingAt: 0)
        + String(format: "%6.1f MB resident", kib / 1024))
  }
  try peak("200 messages", archive: work + "/small")
  var big = Array("From: big@example.org\r\nSubject: 30 MB\r\n\r\n".utf8)
  let line = Array(String(repeating: "0123456789abcdef", count: 4).utf8) + [13, 10]
  while big.count < 30 << 20 { big += line }
  try client.append([MessageToStore(bytes: big)], to: MailboxName("INBOX"))
  client.logout()
  try peak("200 messages and one of 30 MB", archive: work + "/big")
}

func directorySize(_ path: String) -> Int {
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return 0 }
  guard isDirectory.boolValue else {
    return (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
  }
  var total = 0
  let enumerator = FileManager.default.enumerator(atPath: path)
  while let name = enumerator?.nextObject() as? String {
    if let size = try? FileManager.default.attributesOfItem(atPath: path + "/" + name)[.size] as? Int {
      total += size
    }
  }
  return total
}

/// One backup of the account into a fresh archive, reading stored copies back to `verify`.
@MainActor func backupOnce(
  server: DovecotServer, account: IMAPAccount, password: String, level: Int32, verify: MigrationOptions.VerifyMode
) throws {
  let directory = NSTemporaryDirectory() + "mailferry-bench-archive-\(getpid())-verify"
  try? FileManager.default.removeItem(atPath: directory)
  defer {
    try? FileManager.default.removeItem(atPath: directory)
    try? FileManager.default.removeItem(atPath: directory + "-state.sqlite")
  }
  var options = MigrationOptions()
  options.connections = 2
  options.verify = verify
  let migration = Migration(
    source: {
      let client = try IMAPClient.connect(account)
      try client.login(.password(password))
      return IMAPSource(client)
    },
    sink: {
      let archive = try Archive(path: directory, create: true)
      archive.compressionLevel = level
      return ArchiveSink(archive)
    }, sourceIdentity: "bench", targetIdentity: "archive:" + directory, statePath: directory + "-state.sqlite",
    options: options)
  let start = ContinuousClock.now
  let report = try migration.run()
  let elapsed = seconds(ContinuousClock.now - start)
  guard report.isComplete else {
    print("  backup incomplete: \(report.folders.compactMap(\.error))")
    return
  }
  print(
    "mailferry backup, read back: \(verify)".padding(toLength: 46, withPad: " ", startingAt: 0)
      + String(
        format: "%8.0f msg/s  %8.1f MB/s  %6.2f s  (%d messages)", Double(report.copied) / elapsed,
        Double(report.copiedBytes) / 1e6 / elapsed, elapsed, report.copied))
}
