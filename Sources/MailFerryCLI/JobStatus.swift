import Archive
import Checkpoint
import Foundation

/// What `mailferry status` knows about one job: its state file read read-only, and whether
/// a run holds the job's lock now.
struct JobStatus {
  let name: String?
  let command: String?
  let statePath: String
  /// Nil when the state file does not exist: the job never ran (or ran with another --state).
  let summary: CheckpointSummary?
  /// What the lock file says about a run that holds it now ("pid 12, backup …, since …").
  let runningNow: String?

  init(name: String?, command: String?, statePath: String, lockPath: String) throws {
    self.name = name
    self.command = command
    self.statePath = statePath
    summary = FileManager.default.fileExists(atPath: statePath) ? try CheckpointSummary(readingStateAt: statePath) : nil
    runningNow = Self.holder(ofLockAt: lockPath)
  }

  /// The status of a job of a job file: its state file is the `state` key or the one its
  /// command derives; its lock is the state file's, or the archive's for a job into one.
  init(job: PreparedJob) throws {
    let source = try JobEndpoint.parse(job.source)
    let target = try JobEndpoint.parse(job.target)
    let statePath = try job.state ?? MigrateCommand.defaultStatePath(source: source, target: target)
    let lockPath = target.archivePath.map { ArchiveLayout(root: $0).lockPath } ?? statePath + ".lock"
    try self.init(name: job.name, command: job.command, statePath: statePath, lockPath: lockPath)
  }

  /// The holder a lock file names, when that process is alive. A lock dies with its process
  /// but a killed holder's words stay in the file, so the process is looked up; the lock
  /// itself is not touched (probing it could turn a run starting now away).
  static func holder(ofLockAt path: String) -> String? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    let holder = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard holder.hasPrefix("pid "), let pid = Int32(holder.dropFirst(4).prefix { $0.isNumber }) else { return nil }
    return kill(pid, 0) == 0 || errno == EPERM ? holder : nil
  }

  /// The last run as a person reads it.
  var lastRunText: String {
    guard let summary, let run = summary.lastRun else { return "none" }
    let started = Self.time(run.startedAt)
    switch (run.outcome, run.finishedAt) {
    case ("running", _):
      if let runningNow { return "started \(started), running now (\(runningNow))" }
      return "started \(started), did not finish: the process was killed or crashed (the next run goes on from there)"
    case (let outcome, let finished?):
      let meaning =
        [
          "complete": "complete", "partial": "partial: some messages did not move",
          "interrupted": "interrupted (Ctrl-C or SIGTERM); the next run goes on from there",
        ][outcome] ?? outcome
      return "started \(started), finished \(Self.time(finished)), \(meaning)"
    case (let outcome, nil): return "started \(started), \(outcome)"
    }
  }

  static func time(_ seconds: Int64) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
  }

  static func isoTime(_ seconds: Int64?) -> Any {
    guard let seconds else { return NSNull() }
    return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
  }

  func print(to console: Console) {
    let heading = name.map { "job \($0)" + (command.map { " (\($0))" } ?? "") } ?? "state \(statePath)"
    guard let summary else {
      console.print(
        "\(heading): never run (no state file at \(statePath))" + (runningNow.map { "; running now (\($0))" } ?? ""))
      return
    }
    console.print("\(heading): \(summary.source) → \(summary.target)")
    console.print("  state:      \(statePath)")
    console.print("  last run:   \(lastRunText)")
    if let runningNow, summary.lastRun?.outcome != "running" {
      // A run has the lock but has not recorded itself yet (it is still logging in).
      console.print("  running now: \(runningNow)")
    }
    if let complete = summary.lastCompleteRun, complete != summary.lastRun {
      console.print("  last complete run: finished \(complete.finishedAt.map(Self.time) ?? "-")")
    }
    console.print("  runs:       \(summary.runCount)")
    console.print(
      "  messages:   \(summary.copied) copied, \(summary.duplicates) already there, \(summary.pending) pending")
    if summary.pending > 0 {
      let folders = summary.pendingByFolder.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
      console.print(
        "  pending:    \(folders.joined(separator: ", ")) (in flight when a run stopped; the next run looks for "
          + "them in the target before sending anything again)")
    }
    console.print("  failures:   \(summary.failures.count)")
    for failure in summary.failures {
      console.print(
        "    \(failure.folder) #\(failure.sourceUID): \(failure.reason) (\(failure.attempts) attempt(s))")
    }
  }

  var json: [String: Any] {
    var object: [String: Any] = ["state": statePath, "exists": summary != nil, "running_now": runningNow ?? NSNull()]
    if let name { object["job"] = name }
    if let command { object["command"] = command }
    guard let summary else { return object }
    func run(_ run: CheckpointSummary.Run?) -> Any {
      guard let run else { return NSNull() }
      return [
        "started_at": Self.isoTime(run.startedAt), "finished_at": Self.isoTime(run.finishedAt), "outcome": run.outcome,
      ]
    }
    object["source"] = summary.source
    object["target"] = summary.target
    object["runs"] = summary.runCount
    object["last_run"] = run(summary.lastRun)
    object["last_complete_run"] = run(summary.lastCompleteRun)
    object["copied"] = summary.copied
    object["duplicates"] = summary.duplicates
    object["pending"] = summary.pending
    object["pending_by_folder"] = summary.pendingByFolder
    object["failures"] = summary.failures.map {
      ["folder": $0.folder, "uid": Int($0.sourceUID), "reason": $0.reason, "attempts": $0.attempts] as [String: Any]
    }
    return object
  }
}
