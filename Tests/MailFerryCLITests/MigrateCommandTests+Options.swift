import Foundation
import ServerFixtures
import Storage
import Testing

@testable import MailFerryCLI

/// `--json`, Ctrl-C and the options that may destroy data.
extension MigrateCommandTests {
  var binary: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent(".build/debug/mailferry").path
  }

  static func jsonLines(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map { line in
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
      return try #require(object as? [String: Any], "not a JSON object: \(line)")
    }
  }

  @Test func aSecondRunOfTheSameJobStopsAtOnceAsTemporary() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(folders: ["INBOX": 3])
    let lock = try ExclusiveLock.acquire(path: "\(directory)/state.sqlite.lock", purpose: "migrate (a first run)")
    let blocked = CapturedRun(["migrate", sourceURL, targetURL] + common)
    #expect(blocked.status == .temporary, "\(blocked.err)")
    #expect(blocked.err.contains("state.sqlite.lock is held by another MailFerry run"), "\(blocked.err)")
    #expect(blocked.err.contains("migrate (a first run)"))
    #expect(try contents(targetServer, targetUser).isEmpty, "nothing was copied")
    lock.release()
    let run = CapturedRun(["migrate", sourceURL, targetURL] + common)
    #expect(run.status == .success, "\(run.err)")
  }

  @Test func jsonLinesDescribeEveryStepAndEndWithTheReport() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(folders: ["INBOX": 7, "Sent": 3])
    let run = CapturedRun(["migrate", sourceURL, targetURL, "--json", "--batch", "4"] + common)
    #expect(run.status == .success, "\(run.err)")
    let events = try Self.jsonLines(run.out)
    #expect(events.first?["event"] as? String == "planned")
    let planned = try #require(events.first?["folders"] as? [[String: Any]])
    #expect(planned.contains { $0["source"] as? String == "INBOX" && $0["estimate"] as? Int == 7 })
    let started = events.filter { $0["event"] as? String == "folder-started" }
    #expect(Set(started.compactMap { $0["source"] as? String }).isSuperset(of: ["INBOX", "Sent"]))
    let batches = events.filter { $0["event"] as? String == "batch" && $0["source"] as? String == "INBOX" }
    #expect(batches.compactMap { $0["copied"] as? Int } == [4, 3])
    let report = try #require(events.last)
    #expect(report["event"] as? String == "report")
    #expect(report["complete"] as? Bool == true)
    #expect(report["copied"] as? Int == 10)
    let folders = try #require(report["folders"] as? [[String: Any]])
    #expect(folders.first { $0["source"] as? String == "Sent" }?["target"] as? String == "Sent Items")

    // The rerun has nothing to do, and says so in the same form.
    let again = try Self.jsonLines(CapturedRun(["migrate", sourceURL, targetURL, "--json"] + common).out)
    #expect(again.last?["copied"] as? Int == 0)
    #expect(again.last?["complete"] as? Bool == true)
  }

  @Test func deleteSourceIsRefusedWithDryRun() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = CapturedRun(["migrate", sourceURL, targetURL, "--delete-source", "--dry-run"] + common)
    #expect(run.status == .usage)
    #expect(run.err.contains("--delete-source"))
  }

  @Test func ctrlCStopsAfterTheBatchInFlightAndTheRerunFinishes() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(folders: ["INBOX": 300, "Lists": 200], bodyLines: 600)
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let log = "\(directory)/interrupted.log"
    let pid = try Subprocess.start(
      [binary, "migrate", sourceURL, targetURL, "--json", "--connections", "1", "--batch", "10"] + common, logFile: log)
    var moving = false
    for _ in 0..<1000 {
      moving = try targetMessageCount() > 0
      if moving { break }
      usleep(10_000)
    }
    try #require(moving, "the migration never started copying")
    kill(pid, SIGINT)
    let status = Subprocess.wait(for: pid)
    let output = try String(contentsOfFile: log, encoding: .utf8)
    #expect(status == ExitCode.interrupted.rawValue, "\(output)")
    let copiedSoFar = try targetMessageCount()
    #expect(copiedSoFar < 500, "the run finished before Ctrl-C could stop it")
    // Stopped cleanly: nothing left in flight, and the report says what happened.
    let pending = try Subprocess.run(
      ["sqlite3", "\(directory)/state.sqlite", "SELECT count(*) FROM messages WHERE state = 'pending'"])
    #expect(pending.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    let report = try #require(
      try Self.jsonLines(output.split(separator: "\n").filter { $0.hasPrefix("{") }.joined(separator: "\n")).last)
    #expect(report["interrupted"] as? Bool == true)
    #expect(report["copied"] as? Int == copiedSoFar)

    // A second Ctrl-C quits at once; what it leaves in flight is reconciled by the rerun.
    let impatient = try Subprocess.start([binary, "migrate", sourceURL, targetURL] + common, logFile: log)
    for _ in 0..<1000 {
      if try targetMessageCount() > copiedSoFar { break }
      usleep(10_000)
    }
    kill(impatient, SIGINT)
    kill(impatient, SIGINT)
    #expect(Subprocess.wait(for: impatient) == ExitCode.interrupted.rawValue)

    let rerun = try Subprocess.run([binary, "migrate", sourceURL, targetURL, "--quiet"] + common, check: false)
    #expect(rerun.status == 0, "\(rerun.stderr)")
    #expect(try contents(targetServer, targetUser) == contents(sourceServer, sourceUser))
  }
}
