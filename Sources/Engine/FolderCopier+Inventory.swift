import Checkpoint
import MailCore
import Mailstore

extension FolderCopier {
  /// Hashes the sink messages the checkpoint does not know, and counts per hash what the
  /// sink holds and what of the source is already matched.
  func takeInventory(state: FolderState, sourceValidity: UInt32, sinkFolder: SinkFolderState?) throws {
    let counts = try store.hashCounts(
      folder: state.id, currentValidity: sourceValidity, targetUIDValidity: sinkFolder?.validity)
    var unknown: [SHA256Digest: [UInt32?]] = [:]
    if let sinkFolder, sinkFolder.count > 0 {
      let known = try sinkFolder.validity.map { try store.targetUIDs(folder: state.id, targetUIDValidity: $0) } ?? []
      try sink.inventory(skipping: known) { message in
        unknown[message.sha256, default: []].append(message.id)
        if let id = message.messageID { targetMessageIDs.insert(id) }
      }
    }
    for (hash, count) in counts {
      targetCopies[hash] = count.all - count.withoutTargetUID
      sourceDone[hash] = count.current
    }
    for (hash, ids) in unknown {
      // Copies without a recorded target id (no UIDPLUS) are among the unknown ones.
      let ours = counts[hash]?.withoutTargetUID ?? 0
      targetCopies[hash, default: 0] += ids.count
      if ids.count > ours { foreign[hash] = Array(ids.dropFirst(ours)) }
    }
  }

  /// Settles messages a killed run left in flight: present in the sink → copied, else
  /// forgotten so they are sent again.
  func reconcilePending(state: FolderState, sinkValidity: UInt32?) throws {
    let pending = try store.pending(folder: state.id)
    guard !pending.isEmpty, !options.dryRun else { return }
    var landed: [UInt32: [(UInt32, UInt32?)]] = [:]
    var lost: [UInt32: [UInt32]] = [:]
    for record in pending {
      if var ids = foreign[record.sha256], !ids.isEmpty {
        let id = ids.removeFirst()
        foreign[record.sha256] = ids
        landed[record.sourceUIDValidity, default: []].append((record.sourceUID, id))
        if record.sourceUIDValidity == state.sourceUIDValidity { sourceDone[record.sha256, default: 0] += 1 }
        report.reconciled += 1
      } else {
        lost[record.sourceUIDValidity, default: []].append(record.sourceUID)
      }
    }
    for (validity, copies) in landed {
      try store.commitCopied(
        folder: state.id, sourceUIDValidity: validity, copies: copies.map { ($0.0, $0.1) },
        targetUIDValidity: sinkValidity, lastUID: nil)
    }
    for (validity, uids) in lost {
      try store.discardPending(folder: state.id, sourceUIDValidity: validity, sourceUIDs: uids)
    }
    let resent = lost.values.reduce(0) { $0 + $1.count }
    if !sink.isSearchable && resent > 0 {
      report.notes.append(
        "\(resent) message(s) were being delivered when the last run stopped; a delivery cannot be looked up, "
          + "so they are sent again (if the server had accepted one just before the stop, it arrives twice)")
    }
    if report.reconciled > 0 {
      report.notes.append(
        "\(report.reconciled) message(s) in flight when the last run stopped were already in the target")
    }
  }
}

/// Source message names (POP3 UIDLs) → keys, kept in the job's state file.
final class CheckpointKeyMap: SourceKeyMap {
  let store: CheckpointStore
  let folder: Int64

  init(store: CheckpointStore, folder: Int64) {
    self.store = store
    self.folder = folder
  }

  func keys(for identities: [String]) throws -> [UInt32] { try store.keys(folder: folder, identities: identities) }
}
