import Foundation

/// What a batch prints: a line per account as it finishes, and a table at the end.
enum BatchSummary {
  static func line(
    _ account: BatchAccount, _ outcome: BatchOutcome, number: Int, of total: Int, directory: String
  )
    -> String
  {
    let head = "[\(number)/\(total)] \(account.id): \(label(outcome.exitStatus)) (\(outcome.status))"
    let counts = outcome.copied.map { "\($0) copied, \(outcome.failed ?? 0) failed, " } ?? ""
    let time = String(format: "%.1f s", outcome.seconds)
    guard outcome.exitStatus != .success else { return "\(head): \(counts)\(time)" }
    return "\(head): \(outcome.error ?? "see the log"); \(counts)\(time); log: \(directory)/\(account.id).log"
  }

  static func table(
    chosen: [BatchAccount], ran: [BatchOutcome], skipped: [BatchOutcome], notStarted: [BatchAccount],
    directory: String, console: Console
  ) {
    let ranByID = Dictionary(ran.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
    let skippedIDs = Set(skipped.map(\.id))
    let notStartedIDs = Set(notStarted.map(\.id))
    let width = 26
    console.print(
      "STATUS".padding(toLength: width, withPad: " ", startingAt: 0) + "COPIED".leftPadded(8)
        + "FAILED".leftPadded(8) + "SECONDS".leftPadded(9) + "  ACCOUNT")
    for account in chosen {
      let status: String
      var outcome: BatchOutcome?
      if let ran = ranByID[account.id] {
        status = "\(label(ran.exitStatus)) (\(ran.status))"
        outcome = ran
      } else if skippedIDs.contains(account.id) {
        status = "finished earlier"
      } else {
        status = notStartedIDs.contains(account.id) ? "not started" : "-"
      }
      console.print(
        status.padding(toLength: width, withPad: " ", startingAt: 0)
          + (outcome?.copied.map(String.init) ?? "-").leftPadded(8)
          + (outcome?.failed.map(String.init) ?? "-").leftPadded(8)
          + (outcome.map { String(format: "%.1f", $0.seconds) } ?? "-").leftPadded(9) + "  " + account.id)
    }
    let failed = ran.filter { $0.exitStatus != .success }
    var parts = ["\(ran.count - failed.count) done"]
    if !skipped.isEmpty { parts.append("\(skipped.count) finished earlier") }
    if !failed.isEmpty { parts.append("\(failed.count) not done") }
    if !notStarted.isEmpty { parts.append("\(notStarted.count) not started") }
    console.print("\(chosen.count) account(s): " + parts.joined(separator: ", "))
    for outcome in failed {
      console.error("\(outcome.id): \(outcome.error ?? "see the log") (log: \(directory)/\(outcome.id).log)")
    }
    if !failed.isEmpty || !notStarted.isEmpty {
      console.hint(
        "fix what the errors say and run the same batch again: finished accounts are skipped, the others "
          + "resume from their checkpoints")
    }
  }

  /// A short name for an account's status.
  static func label(_ status: ExitCode) -> String {
    switch status {
    case .success: return "done"
    case .partial: return "partial"
    case .usage: return "usage-error"
    case .dataError: return "data-error"
    case .unavailable: return "unavailable"
    case .ioError: return "io-error"
    case .temporary: return "try-later"
    case .noPermission: return "no-permission"
    case .configuration: return "configuration-error"
    case .interrupted: return "stopped"
    }
  }
}
