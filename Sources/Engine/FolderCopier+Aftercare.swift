import Checkpoint
import Foundation
import MailCore
import Mailstore

/// What happens to a folder after its new messages are copied: `--sync-flags` and
/// `--delete-source`.
extension FolderCopier {
  /// Brings the flags of earlier copies in line with the source: only messages changed
  /// since the last run where the source keeps modification sequences (CONDSTORE), else
  /// every message, comparing with the target's flags so only differences are written.
  func syncFlags(state: FolderState, validity: UInt32, sinkFolder: SinkFolderState) throws {
    let changed = try source.flags(changedSince: state.sourceHighestModSeq)
    guard !changed.isEmpty else { return }
    var targetOf: [UInt32: UInt32] = [:]
    var withoutID = 0
    let changedKeys = Set(changed.map(\.key))
    for done in try store.doneMessages(folder: state.id, sourceUIDValidity: validity)
    where changedKeys.contains(done.sourceUID) {
      if let id = done.targetUID, done.targetUIDValidity == sinkFolder.validity, sinkFolder.validity != nil {
        targetOf[done.sourceUID] = id
      } else {
        withoutID += 1
      }
    }
    let current = try sink.flags(of: Array(targetOf.values))
    var updates: [(id: UInt32, flags: [String])] = []
    for change in changed {
      guard let id = targetOf[change.key], let have = current[id] else { continue }
      let want = flags(change.flags, sinkFolder: sinkFolder)
      if FlagSet.comparable(want) != FlagSet.comparable(have) { updates.append((id, want)) }
    }
    if !updates.isEmpty { try sink.setFlags(updates) }
    report.flagsUpdated += updates.count
    if withoutID > 0 {
      report.notes.append(
        "flags of \(withoutID) message(s) were not synced: the target did not say which UID their copies got")
    }
  }

  /// Removes from the source the messages that are committed in the checkpoint and whose
  /// copies the target confirms: by UID and size where the target reported UIDs, else by
  /// content hash, copy for copy. Anything unconfirmed stays in the source.
  func deleteCopied(state: FolderState, validity: UInt32, sinkFolder: SinkFolderState) throws {
    let present = Set(try source.keys(after: 0))
    // With --keep-days, only copies committed long enough ago (unknown commit time: kept).
    let cutoff = options.keepDays.map { Int64(Date().timeIntervalSince1970) - Int64($0) * 86400 }
    let done = try store.doneMessages(folder: state.id, sourceUIDValidity: validity).filter {
      guard present.contains($0.sourceUID) else { return false }
      guard let cutoff else { return true }
      return ($0.committedAt ?? Int64.max) <= cutoff
    }
    guard !done.isEmpty else { return }
    guard sink.isSearchable else {
      // A delivery cannot be looked up: the server's acknowledgement, committed in the
      // checkpoint, is the confirmation.
      try remove(done.map(\.sourceUID))
      return
    }
    var confirmed: [UInt32] = []
    var byHash: [DoneMessage] = []
    var byID: [DoneMessage] = []
    for message in done {
      if message.targetUID != nil, sinkFolder.validity != nil, message.targetUIDValidity == sinkFolder.validity {
        byID.append(message)
      } else {
        byHash.append(message)
      }
    }
    let copies = sink.readBackDepth == nil ? [:] : try sink.readBack(byID.compactMap(\.targetUID), depth: .size)
    for message in byID {
      if let size = copies[message.targetUID!]?.size, size == UInt64(message.size) {
        confirmed.append(message.sourceUID)
      } else {
        byHash.append(message)
      }
    }
    if !byHash.isEmpty {
      var available: [SHA256Digest: Int] = [:]
      try sink.inventory(skipping: []) { available[$0.sha256, default: 0] += 1 }
      // Copies confirmed by id hold their own target messages; the rest share what is left.
      let confirmedByID = Set(confirmed)
      for message in byID where confirmedByID.contains(message.sourceUID) {
        available[message.sha256, default: 0] -= 1
      }
      for message in byHash where available[message.sha256, default: 0] > 0 {
        available[message.sha256]! -= 1
        confirmed.append(message.sourceUID)
      }
    }
    let unconfirmed = done.count - confirmed.count
    if unconfirmed > 0 {
      report.notes.append("\(unconfirmed) message(s) stay in the source: their copies could not be confirmed")
    }
    try remove(confirmed)
  }

  private func remove(_ keys: [UInt32]) throws {
    guard !keys.isEmpty else { return }
    if case .markedOnly(let reason) = try source.remove(keys.sorted()) {
      report.notes.append("\(keys.count) message(s) marked \\Deleted in the source, not expunged: \(reason)")
    }
    report.deletedFromSource += keys.count
  }
}
