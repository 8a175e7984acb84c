import Archive
import Foundation
import POP3Endpoint
import ServerFixtures
import Storage
import Testing
import Transport

@testable import MailFerryCLI

/// `mailferry run` and `status` with a job file against the test Dovecot: a migrate job, an
/// IMAP backup and a POP3 backup with retention, a second run of a running job, and the
/// status a killed run leaves.
@Suite struct JobRunTests {
  let backup: BackupCommandTests
  let target: DovecotServer.User
  let popUser: DovecotServer.User
  /// The variable the migrate job reads its target password from.
  let passwordVariable = "MAILFERRY_JOBTEST_\(UInt32.random(in: 0...UInt32.max))"

  init() throws {
    backup = try BackupCommandTests()
    target = try backup.server.createUser("jobdst")
    popUser = try backup.server.createUser("jobpop")
    setenv(passwordVariable, target.password, 1)
  }

  var directory: String { backup.directory }
  var server: DovecotServer { backup.server }
  var jobFile: String { "\(directory)/jobs.conf" }

  /// Three jobs, each with its password from elsewhere: a file, a variable, the job file.
  func writeJobFile() throws {
    let text = """
      # written by JobRunTests
      [job mail-move]
      command = migrate
      source = \(backup.url(backup.sourceUser))
      target = \(backup.url(target))
      source-password-file = \(directory)/source.pw
      target-password-env = \(passwordVariable)
      ca-file = \(server.caFile)
      state = \(directory)/migrate.sqlite
      batch = 2
      connections = 1      # one folder at a time
      quiet

      [job imap-backup]
      command = backup
      source = \(backup.url(backup.sourceUser))
      archive = \(directory)/imap-archive
      password-file = \(directory)/source.pw
      ca-file = \(server.caFile)
      quiet = yes

      [job pop-backup]
      command = backup
      source = pop3s://\(popUser.name)@localhost:\(server.pop3sPort)
      archive = \(directory)/pop-archive
      password = \(popUser.password)
      ca-file = \(server.caFile)
      keep-days = 0
      quiet
      """
    try Data(text.utf8).write(to: URL(fileURLWithPath: jobFile))
    chmod(jobFile, 0o600)
  }

  func deliverToMaildrop(_ count: Int) throws {
    for number in 1...count {
      try server.deliver(
        Array("From: a@example.org\r\nSubject: job \(number)\r\nMessage-ID: <job-\(number)@x>\r\n\r\nbody\r\n".utf8),
        to: popUser.name)
    }
  }

  func maildropCount() throws -> Int {
    let client = try POP3Client.connect(
      POP3Account(host: server.host, port: server.pop3sPort, user: popUser.name, tls: TLSOptions(caFile: server.caFile))
    )
    try client.login(.password(popUser.password))
    defer { try? client.quit() }
    return try client.stat().count
  }

  func archivedCount(_ path: String) throws -> Int {
    let archive = try Archive(path: path, create: false)
    return try archive.folders().reduce(0) { $0 + (try archive.messageCount($1)) }
  }

  /// The JSON objects `status --json` prints, by job name.
  func statusObjects(_ arguments: [String] = []) throws -> [String: [String: Any]] {
    let run = CapturedRun(["status", jobFile, "--json"] + arguments)
    #expect(run.status == .success, "\(run.err)")
    var result: [String: [String: Any]] = [:]
    for line in run.out.split(separator: "\n") {
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      result[try #require(object["job"] as? String)] = object
    }
    return result
  }

  @Test func runsEveryJobOfTheFileAndStatusShowsTheirLastRuns() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try backup.fill(backup.sourceUser, folders: ["INBOX": 4, "Lists": 3])
    try deliverToMaildrop(3)
    try writeJobFile()
    let checked = CapturedRun(["check", jobFile])
    #expect(checked.status == .success, "\(checked.err)")
    #expect(checked.err.contains("\(jobFile):26: job 'pop-backup': the password is written in the job file"))

    let run = CapturedRun(["run", jobFile])
    #expect(run.status == .success, "\(run.err)")
    for name in ["mail-move", "imap-backup", "pop-backup"] {
      #expect(run.out.contains("job \(name): done (exit 0)\n"), "\(run.out)")
    }
    #expect(!run.err.contains(popUser.password) && !run.out.contains(popUser.password))
    #expect(try backup.contents(target) == backup.contents(backup.sourceUser))
    #expect(try archivedCount("\(directory)/imap-archive") == 7)
    #expect(try archivedCount("\(directory)/pop-archive") == 3)
    #expect(try maildropCount() == 0, "keep-days = 0 removes what the archive holds")

    let statuses = try statusObjects()
    #expect(statuses.keys.sorted() == ["imap-backup", "mail-move", "pop-backup"])
    for (name, status) in statuses {
      #expect((status["last_run"] as? [String: Any])?["outcome"] as? String == "complete", "\(name)")
      #expect(status["pending"] as? Int == 0, "\(name)")
      #expect((status["failures"] as? [Any])?.count == 0, "\(name)")
    }
    #expect(statuses["pop-backup"]?["copied"] as? Int == 3)
    let text = CapturedRun(["status", jobFile, "imap-backup"])
    #expect(text.out.hasPrefix("job imap-backup (backup): \(backup.url(backup.sourceUser)) → archive:"), "\(text.out)")
    #expect(text.out.contains(", complete\n"))
    #expect(!text.out.contains("job mail-move"))

    // Only the job named runs.
    try backup.fill(backup.sourceUser, folders: ["INBOX": 1], offset: 20)
    let one = CapturedRun(["run", jobFile, "imap-backup"])
    #expect(one.status == .success, "\(one.err)")
    #expect(one.out == "job imap-backup: done (exit 0)\n")
    #expect(try archivedCount("\(directory)/imap-archive") == 8)
    #expect(try statusObjects(["mail-move"])["mail-move"]?["runs"] as? Int == 1)
  }

  @Test func aSecondRunOfARunningJobStopsAtOnceWith75() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try backup.fill(backup.sourceUser, folders: ["INBOX": 2])
    try writeJobFile()
    // What a first run holds while it works: the state file's lock, or the archive's (taken
    // here by the test; aSecondRunWhileTheFirstIsRunningStopsAtOnceWith75 has a real first run).
    let jobLock = try ExclusiveLock.acquire(path: "\(directory)/migrate.sqlite.lock", purpose: "migrate (first run)")
    let migrating = CapturedRun(["run", jobFile, "mail-move"])
    jobLock.release()
    #expect(migrating.status == .temporary, "\(migrating.err)")
    #expect(migrating.err.contains("is held by another MailFerry run"), "\(migrating.err)")
    #expect(migrating.out == "job mail-move: left for a later run (exit 75)\n")
    #expect(try backup.contents(target).isEmpty)

    let archiveLock = try Archive.lock(path: "\(directory)/imap-archive", purpose: "backup (first run)", mode: .writing)
    let backingUp = CapturedRun(["run", "--quiet", jobFile, "imap-backup", "mail-move"])
    archiveLock.forEach { $0.release() }
    #expect(backingUp.status == .temporary, "\(backingUp.err)")
    // --quiet: a line only for the job that did not end with 0; the other one still ran.
    #expect(backingUp.out == "job imap-backup: left for a later run (exit 75)\n")
    #expect(try backup.contents(target) == backup.contents(backup.sourceUser))
  }

  /// A first run of the built binary holds the job while its token command waits for a
  /// file; a second run of that job, meanwhile, stops at once with 75 naming the first.
  @Test func aSecondRunWhileTheFirstIsRunningStopsAtOnceWith75() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try writeJobFile()
    let go = "\(directory)/go"
    let slowJob = """

      [job slow-move]
      command = migrate
      source = \(backup.url(backup.sourceUser))
      target = \(backup.url(target))
      source-oauth-token-command = while [ ! -e \(go) ]; do sleep 0.1; done; echo not-a-token
      target-password-env = \(passwordVariable)
      ca-file = \(server.caFile)
      state = \(directory)/slow.sqlite
      """
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: jobFile))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(slowJob.utf8))
    try handle.close()
    let first = try Subprocess.start([try binary(), "run", jobFile, "slow-move"], logFile: "\(directory)/first.log")
    defer {
      _ = FileManager.default.createFile(atPath: go, contents: nil)
      Subprocess.terminate(first)
    }
    // Until the first run has taken the job's lock (its holder line names its pid).
    let lockFile = "\(directory)/slow.sqlite.lock"
    var holder = ""
    for _ in 0..<600 where !holder.contains("pid \(first),") {
      usleep(100_000)
      holder = (try? String(contentsOfFile: lockFile, encoding: .utf8)) ?? ""
    }
    try #require(holder.contains("pid \(first),"), "the first run never took the lock")

    let second = CapturedRun(["run", jobFile, "slow-move"])
    #expect(second.status == .temporary, "\(second.err)")
    #expect(
      second.err.contains("\(lockFile) is held by another MailFerry run (pid \(first), migrate "), "\(second.err)")
    #expect(second.out == "job slow-move: left for a later run (exit 75)\n")
    let status = CapturedRun(["status", jobFile, "slow-move"])
    #expect(status.out.contains("running now (pid \(first), migrate "), "\(status.out)")
  }

  func binary() throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    return binary
  }

  @Test func statusAfterAKilledRunShowsItUnfinishedWithItsPendingMessages() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try backup.fill(backup.sourceUser, folders: ["INBOX": 6])
    try writeJobFile()
    let binary = try binary()
    // Killed after the target stored the second batch of two, before the two batches were
    // read back and committed together.
    let killed = try Subprocess.run(
      [binary, "run", jobFile, "mail-move"], environment: ["MAILFERRY_CRASH_AT": "after-store:2"], check: false)
    #expect(killed.status == 128 + SIGKILL, "\(killed.stderr)")

    let status = CapturedRun(["status", jobFile])
    #expect(status.status == .success, "\(status.err)")
    #expect(status.out.contains("did not finish: the process was killed or crashed"), "\(status.out)")
    #expect(status.out.contains("pending:    INBOX 4 (in flight"), "\(status.out)")
    #expect(
      status.out.contains("job imap-backup (backup): never run (no state file at \(directory)/imap-archive/state/"))
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/imap-archive"), "status creates nothing")
    let json = try #require(try statusObjects()["mail-move"])
    #expect(json["pending"] as? Int == 4)
    #expect(json["copied"] as? Int == 0)
    #expect((json["last_run"] as? [String: Any])?["outcome"] as? String == "running")
    #expect(json["running_now"] is NSNull)

    let resumed = CapturedRun(["run", jobFile, "mail-move"])
    #expect(resumed.status == .success, "\(resumed.err)")
    #expect(try backup.contents(target) == backup.contents(backup.sourceUser))
    let after = try #require(try statusObjects()["mail-move"])
    #expect(after["pending"] as? Int == 0)
    #expect(after["runs"] as? Int == 2)
    #expect((after["last_run"] as? [String: Any])?["outcome"] as? String == "complete")
  }

  @Test func statusOfAStateFileWorksWhileARunHoldsItsLock() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try backup.fill(backup.sourceUser, folders: ["INBOX": 2])
    try writeJobFile()
    #expect(CapturedRun(["run", jobFile, "mail-move"]).status == .success)
    let lock = try ExclusiveLock.acquire(path: "\(directory)/migrate.sqlite.lock", purpose: "migrate (a run)")
    defer { lock.release() }
    let status = CapturedRun(["status", "--state", "\(directory)/migrate.sqlite"])
    #expect(status.status == .success, "\(status.err)")
    #expect(status.out.contains("messages:   2 copied"), "\(status.out)")
    #expect(status.out.contains("runs:       1"))
    #expect(status.out.contains("running now: pid \(getpid()), migrate (a run), since "), "\(status.out)")
    let json = CapturedRun(["status", "--state", "\(directory)/migrate.sqlite", "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
    #expect((object["running_now"] as? String)?.hasPrefix("pid \(getpid()), migrate (a run)") == true, "\(json.out)")
    #expect(object["copied"] as? Int == 2)
    let missing = CapturedRun(["status", "--state", "\(directory)/none.sqlite"])
    #expect(missing.status != .success)
    #expect(missing.err.contains("state file \(directory)/none.sqlite does not exist"), "\(missing.err)")
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/none.sqlite"))
  }
}
