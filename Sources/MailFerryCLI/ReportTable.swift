import Engine
import Foundation
import MailCore

/// The end-of-job report: one row per folder, then totals, how copies were verified, and
/// the problems with a hint that fits them (run again only when that can help).
enum ReportTable {
  static func print(_ report: MigrationReport, console: Console, dryRun: Bool, quiet: Bool) {
    if !quiet {
      let altered = report.altered > 0
      console.print(
        (dryRun ? "TO COPY" : "COPIED").leftPadded(8) + "  " + "ALREADY".leftPadded(8) + "  " + "FAILED".leftPadded(6)
          + "  "
          + (altered ? "ALTERED".leftPadded(7) + "  " : "") + "SIZE".leftPadded(10) + "  FOLDER")
      for folder in report.folders {
        console.print(
          String(folder.copied).leftPadded(8) + "  " + String(folder.duplicates).leftPadded(8) + "  "
            + String(folder.failed.count + (folder.error == nil ? 0 : 1)).leftPadded(6) + "  "
            + (altered ? String(folder.altered.count).leftPadded(7) + "  " : "")
            + ByteCountText.human(UInt64(folder.copiedBytes)).leftPadded(10) + "  " + folder.source
            + (folder.source == folder.target ? "" : " → \(folder.target)"))
      }
      console.print(
        String(report.copied).leftPadded(8) + "  " + String(report.duplicates).leftPadded(8) + "  "
          + String(report.failed).leftPadded(6) + "  " + (altered ? String(report.altered).leftPadded(7) + "  " : "")
          + ByteCountText.human(UInt64(report.copiedBytes)).leftPadded(10)
          + "  total" + (dryRun ? " (dry run: nothing was written)" : "")
          + String(format: ", %.1f s", report.seconds))
      if !dryRun, report.copied > 0, let verification = report.verification {
        console.status(verification + (report.verified > 0 ? " (\(report.verified) read back)" : ""))
      }
      if let waits = waitsLine(report.waits) { console.status(waits) }
    }
    for warning in report.warnings { console.warning(warning) }
    for folder in report.folders { problems(of: folder, console: console, quiet: quiet) }
    if let labels = report.labelKeywords {
      if labels.updated > 0 && !quiet {
        console.status("labels: \(labels.updated) copies got the labels of their other folders as keywords")
      }
      for note in labels.notes { console.warning(note) }
      if !labels.refused.isEmpty {
        console.warning(
          "the target does not keep the label keywords " + labels.refused.sorted().joined(separator: " "))
      }
    }
    if let stopped = report.stoppedBy {
      console.error("the job stopped: \(stopped.description)")
    }
    if report.interrupted {
      console.warning("stopped on request; everything reported above is committed")
      console.hint("run the same command again to continue where it stopped")
    } else if !report.isComplete {
      console.hint(hint(for: report))
    }
  }

  private static func problems(of folder: FolderReport, console: Console, quiet: Bool) {
    for note in folder.notes where !quiet { console.status("note: \(folder.source): \(note)") }
    if folder.duplicatesByMessageID > 0 && !quiet {
      console.status(
        "note: \(folder.source): \(folder.duplicatesByMessageID) of the \(folder.duplicates) already there were "
          + "skipped by Message-ID alone (their content differs from the target's copy)")
    }
    if folder.inOtherLabels > 0 && !quiet {
      console.status(
        "note: \(folder.source): \(folder.inOtherLabels) messages are copied for another of their labels, "
          + "not again here")
    }
    if folder.unverified > 0 && !quiet {
      console.status(
        "note: \(folder.source): \(folder.unverified) copies could not be read back: the target gave them no id")
    }
    if !folder.droppedKeywords.isEmpty {
      console.warning(
        "\(folder.target): the target does not keep the keywords "
          + folder.droppedKeywords.sorted().joined(separator: " "))
    }
    for failure in folder.failed {
      let what: String
      switch failure.kind {
      case .refusedByTarget: what = "was refused by the target"
      case .unreadableInSource: what = "did not move: cannot be read from the source"
      case .missingAfterStore: what = "did not move"
      case .tooLarge: what = "did not move: too large"
      }
      console.error("\(folder.source): message UID \(failure.uid) \(what): \(failure.reason)")
    }
    for altered in folder.altered {
      console.error(
        "\(folder.target): the target altered the copy of message UID \(altered.key)"
          + (altered.messageID.map { " \($0)" } ?? "") + (altered.targetID.map { " (stored as UID \($0))" } ?? "")
          + ": \(altered.difference)")
    }
    for refusal in folder.recipientRefusals {
      console.error("\(folder.source): message UID \(refusal.uid) was delivered, but refused for \(refusal.reason)")
    }
    if let error = folder.error {
      console.error("\(folder.source): \(error.description)")
      if let hint = error.hint, folder.failed.isEmpty, error.scope != .job { console.hint(hint) }
    }
  }

  /// What to do about an incomplete job: run again when something failed only for now;
  /// otherwise say that running again will not help, and why.
  static func hint(for report: MigrationReport) -> String {
    if let stopped = report.stoppedBy, let hint = stopped.hint { return hint }
    if report.hasTemporaryProblem {
      return "run the same command again to retry; the report above lists what did not move"
    }
    let folders = report.folders
    // What the target said can be done (free space in an account over quota) comes first.
    let storeHints = Set(folders.flatMap { $0.failed.compactMap(\.hint) })
    if !storeHints.isEmpty { return storeHints.sorted().joined(separator: "; ") }
    var reasons: [String] = []
    if folders.contains(where: { $0.failed.contains { $0.kind == .refusedByTarget } }) {
      reasons.append("the target refuses those messages")
    }
    if folders.contains(where: { $0.failed.contains { $0.kind == .unreadableInSource } }) {
      reasons.append("the source cannot give those messages")
    }
    if report.altered > 0 { reasons.append("the target changes what it stores") }
    if folders.contains(where: { !$0.recipientRefusals.isEmpty }) {
      reasons.append("some recipients refused delivery")
    }
    if folders.contains(where: { $0.error != nil }) { reasons.append("some folders failed for good") }
    return "running the same command again will not change this ("
      + (reasons.isEmpty ? "the failures above are permanent" : reasons.joined(separator: "; "))
      + "); see the reasons above"
  }

  /// "waited: 3 throttling pauses, 12.5 s; 4.0 s held back by --max-rate", or nil when the
  /// job never waited.
  static func waitsLine(_ waits: WaitSummary) -> String? {
    var parts: [String] = []
    if waits.pauses > 0 {
      parts.append(
        "\(waits.pauses) throttling pause\(waits.pauses == 1 ? "" : "s"), "
          + String(format: "%.1f s", waits.throttleSeconds))
    }
    if waits.rateLimitWait > .zero {
      parts.append(String(format: "%.1f s held back by --max-rate", waits.rateLimitSeconds))
    }
    return parts.isEmpty ? nil : "waited: " + parts.joined(separator: "; ")
  }
}

extension MessageFailure {
  /// The source key as the report names it.
  var uid: UInt32 { key }
}
