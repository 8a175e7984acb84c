import Engine
import Foundation

/// `--json`: one JSON object per line on standard output for every event and, last, the
/// report (docs/cli.md lists the fields). Human messages still go to standard error.
enum JSONLines {
  static func line(_ object: [String: Any]) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
      let text = String(data: data, encoding: .utf8)
    else { return "{}" }
    return text
  }

  static func object(_ event: MigrationEvent) -> [String: Any] {
    switch event {
    case .planned(let folders, let estimates):
      return [
        "event": "planned",
        "folders": folders.map { folder in
          var entry: [String: Any] = [
            "source": folder.source.name, "target": folder.targetName, "estimate": estimates[folder.source.name] ?? 0,
          ]
          if let reason = folder.reason { entry["reason"] = reason }
          return entry
        },
      ]
    case .folderStarted(let source, let target, let toDo, let bytes):
      return ["event": "folder-started", "source": source, "target": target, "messages": toDo, "bytes": bytes]
    case .batchDone(let source, let copied, let duplicates, let failed, let bytes):
      return [
        "event": "batch", "source": source, "copied": copied, "duplicates": duplicates, "failed": failed,
        "bytes": bytes,
      ]
    case .folderFinished(let report):
      return ["event": "folder-finished"].merging(folder(report)) { first, _ in first }
    case .reconnecting(let source, let reason):
      return ["event": "reconnecting", "source": source, "reason": reason]
    case .throttled(let source, let reason, let pause):
      return [
        "event": "throttled", "source": source, "reason": reason,
        "pause_seconds": Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18,
      ]
    case .refused(let source, let uid, let reason):
      return ["event": "refused", "source": source, "uid": uid, "reason": reason]
    case .altered(let source, let uid, let difference):
      return ["event": "altered", "source": source, "uid": uid, "difference": difference]
    }
  }

  static func folder(_ report: FolderReport) -> [String: Any] {
    var object: [String: Any] = [
      "source": report.source, "target": report.target, "considered": report.considered, "copied": report.copied,
      "bytes": report.copiedBytes, "duplicates": report.duplicates,
      "duplicates_by_message_id": report.duplicatesByMessageID, "in_other_labels": report.inOtherLabels,
      "reconciled": report.reconciled,
      "filtered": report.filtered, "flags_updated": report.flagsUpdated,
      "deleted_from_source": report.deletedFromSource, "interrupted": report.interrupted,
      "failed": report.failed.map {
        ["uid": $0.key, "kind": $0.kind.rawValue, "reason": $0.reason, "temporary": $0.isTemporary] as [String: Any]
      },
      "altered": report.altered.map { altered in
        var entry: [String: Any] = ["uid": altered.key, "difference": altered.difference]
        if let id = altered.targetID { entry["target_uid"] = id }
        if let messageID = altered.messageID { entry["message_id"] = messageID }
        return entry
      },
      "verified": report.verified,
      "recipient_refusals": report.recipientRefusals.map { ["uid": $0.uid, "reason": $0.reason] as [String: Any] },
      "dropped_keywords": report.droppedKeywords.sorted(), "notes": report.notes,
    ]
    if let error = report.error {
      object["error"] = error.description
      object["error_scope"] = error.scope.description
      object["error_temporary"] = error.isTemporary
    }
    return object
  }

  static func report(_ report: MigrationReport, dryRun: Bool) -> [String: Any] {
    [
      "event": "report", "complete": report.isComplete, "interrupted": report.interrupted, "dry_run": dryRun,
      "copied": report.copied, "bytes": report.copiedBytes, "duplicates": report.duplicates, "failed": report.failed,
      "seconds": report.seconds, "warnings": report.warnings, "folders": report.folders.map(folder),
      "altered": report.altered, "verified": report.verified, "verification": report.verification ?? "",
      "stopped_by": report.stoppedBy?.description ?? "", "retry_may_help": report.hasTemporaryProblem,
      "label_keywords_added": report.labelKeywords?.updated ?? 0,
      "throttle_pauses": report.waits.pauses, "throttle_wait_seconds": report.waits.throttleSeconds,
      "rate_limit_wait_seconds": report.waits.rateLimitSeconds,
    ]
  }
}
