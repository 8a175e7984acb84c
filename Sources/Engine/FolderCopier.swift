import Checkpoint
import Endpoints
import IMAPCodec
import MailCore

/// Copies one folder from a source IMAP session to a target IMAP session, exactly once,
/// resuming from the checkpoint (docs/checkpoint.md). Runs on the thread that owns both
/// sessions and the store.
final class FolderCopier {
  let plan: PlannedFolder
  let source: IMAPClient
  let target: IMAPClient
  let store: CheckpointStore
  let run: Int64
  let options: MigrationOptions
  let events: (MigrationEvent) -> Void
  private(set) var report: FolderReport

  init(
    plan: PlannedFolder, source: IMAPClient, target: IMAPClient, store: CheckpointStore, run: Int64,
    options: MigrationOptions, events: @escaping (MigrationEvent) -> Void
  ) {
    self.plan = plan
    self.source = source
    self.target = target
    self.store = store
    self.run = run
    self.options = options
    self.events = events
    report = FolderReport(source: plan.source.name, target: plan.targetName)
  }

  /// Target messages by content hash that the checkpoint does not account for.
  private var foreign: [SHA256Digest: [UInt32?]] = [:]
  /// Per hash: copies the target holds, and source messages (this UIDVALIDITY) matched to them.
  private var targetCopies: [SHA256Digest: Int] = [:]
  private var sourceDone: [SHA256Digest: Int] = [:]
  private var targetMessageIDs: Set<MessageID> = []

  func copy() throws -> FolderReport {
    let sourceName = source.mailboxName(plan.source.name)
    let selected = try source.select(sourceName, readOnly: true)
    guard let validity = selected.uidValidity else {
      throw EngineError.noUIDValidity(folder: plan.source.name)
    }
    var state = try store.folder(sourceName: plan.source.name, targetName: plan.targetName)
    if let previous = state.sourceUIDValidity, previous != validity {
      report.notes.append("UIDVALIDITY changed (\(previous) → \(validity)): matching by content, not copying again")
      try store.resetProgress(folder: state.id)
      state.sourceLastUID = 0
    }
    state.sourceUIDValidity = validity

    // The target folder, created with its parents when missing.
    let targetName = target.mailboxName(plan.targetName)
    let targetFolders = try target.listFolders()
    if !targetFolders.contains(where: { $0.name == targetName }) && !options.dryRun {
      try target.create(targetName, separator: targetFolders.first?.separator)
      try? target.subscribe(targetName)
    }
    let targetSelected =
      targetFolders.contains(where: { $0.name == targetName }) || !options.dryRun
      ? try target.select(targetName, readOnly: options.dryRun) : nil
    state.targetUIDValidity = targetSelected?.uidValidity
    if !options.dryRun { try store.update(state) }

    try takeInventory(state: state, sourceValidity: validity, targetSelected: targetSelected)
    try reconcilePending(state: state, targetValidity: targetSelected?.uidValidity)

    // What is new since the high-water mark, plus earlier failures, minus what is done.
    var work = try source.uidSearch(.uid(.from(state.sourceLastUID + 1))).filter { $0 > state.sourceLastUID }
    for failure in try store.failures(folder: state.id) where failure.sourceUIDValidity == validity {
      work.append(failure.sourceUID)
    }
    let done = try store.doneUIDs(folder: state.id, sourceUIDValidity: validity, above: 0)
    work = Array(Set(work).subtracting(done)).sorted()
    let metadata = work.isEmpty ? [] : try source.fetchMetadata(.uids(UIDSet(work)))
    var selectedMessages: [MessageMetadata] = []
    for message in metadata.sorted(by: { $0.uid < $1.uid }) {
      if let since = options.since, let date = message.internalDate, date.secondsSince1970 < since {
        report.filtered += 1
      } else if let before = options.before, let date = message.internalDate, date.secondsSince1970 >= before {
        report.filtered += 1
      } else if let maxSize = options.maxSize, message.size > maxSize {
        report.filtered += 1
      } else {
        selectedMessages.append(message)
      }
    }
    report.considered = selectedMessages.count
    events(.folderStarted(source: plan.source.name, target: plan.targetName, toDo: selectedMessages.count))

    var progress = Progress(lastUID: state.sourceLastUID, allUIDs: Set(work), filteredOut: report.filtered > 0)
    var batch: [MessageMetadata] = []
    var batchBytes = 0
    for message in selectedMessages {
      if !batch.isEmpty && (batch.count >= options.batchCount || batchBytes + Int(message.size) > options.batchBytes) {
        try copyBatch(batch, state: state, validity: validity, target: targetSelected, progress: &progress)
        batch = []
        batchBytes = 0
      }
      batch.append(message)
      batchBytes += Int(message.size)
    }
    if !batch.isEmpty {
      try copyBatch(batch, state: state, validity: validity, target: targetSelected, progress: &progress)
    }
    return report
  }

  // MARK: Inventory

  /// Hashes the target messages the checkpoint does not know, and counts per hash what the
  /// target holds and what of the source is already matched.
  private func takeInventory(state: FolderState, sourceValidity: UInt32, targetSelected: SelectedMailbox?) throws {
    let counts = try store.hashCounts(
      folder: state.id, currentValidity: sourceValidity, targetUIDValidity: targetSelected?.uidValidity)
    var unknown: [SHA256Digest: [UInt32?]] = [:]
    if let targetSelected, targetSelected.exists > 0 {
      let known =
        try targetSelected.uidValidity.map { try store.targetUIDs(folder: state.id, targetUIDValidity: $0) } ?? []
      let unknownUIDs = UIDSet(try target.uidSearch(.all).filter { !known.contains($0) })
      if !unknownUIDs.isEmpty {
        final class Hashing {
          var hasher: ContentHasher?
          var digest: SHA256Digest?
          var header: [UInt8] = []
        }
        let hashing = Hashing()
        try target.fetchBodies(
          unknownUIDs,
          consumer: BodyConsumer(
            begin: { _ in
              hashing.hasher = ContentHasher()
              hashing.header = []
            },
            bytes: { chunk in
              hashing.hasher!.update(chunk)
              if hashing.header.count < 64 * 1024 { hashing.header.append(contentsOf: chunk.prefix(64 * 1024)) }
            }, end: { hashing.digest = hashing.hasher.take()!.finalize() }),
          onComplete: { uid in
            if let digest = hashing.digest { unknown[digest, default: []].append(uid) }
            if let id = MessageID(message: hashing.header) { self.targetMessageIDs.insert(id) }
            hashing.digest = nil
          })
      }
    }
    for (hash, count) in counts {
      targetCopies[hash] = count.all - count.withoutTargetUID
      sourceDone[hash] = count.current
    }
    for (hash, uids) in unknown {
      // Copies without a recorded target UID (no UIDPLUS) are among the unknown ones.
      let ours = counts[hash]?.withoutTargetUID ?? 0
      targetCopies[hash, default: 0] += uids.count
      if uids.count > ours { foreign[hash] = Array(uids.dropFirst(ours)) }
    }
  }

  /// Settles messages a killed run left in flight: present in the target → copied, else
  /// forgotten so they are sent again.
  private func reconcilePending(state: FolderState, targetValidity: UInt32?) throws {
    let pending = try store.pending(folder: state.id)
    guard !pending.isEmpty, !options.dryRun else { return }
    var landed: [UInt32: [(UInt32, UInt32?)]] = [:]
    var lost: [UInt32: [UInt32]] = [:]
    for record in pending {
      if var uids = foreign[record.sha256], !uids.isEmpty {
        let uid = uids.removeFirst()
        foreign[record.sha256] = uids
        landed[record.sourceUIDValidity, default: []].append((record.sourceUID, uid))
        if record.sourceUIDValidity == state.sourceUIDValidity { sourceDone[record.sha256, default: 0] += 1 }
        report.reconciled += 1
      } else {
        lost[record.sourceUIDValidity, default: []].append(record.sourceUID)
      }
    }
    for (validity, copies) in landed {
      try store.commitCopied(
        folder: state.id, sourceUIDValidity: validity, copies: copies.map { ($0.0, $0.1) },
        targetUIDValidity: targetValidity, lastUID: nil)
    }
    for (validity, uids) in lost {
      try store.discardPending(folder: state.id, sourceUIDValidity: validity, sourceUIDs: uids)
    }
    if report.reconciled > 0 {
      report.notes.append(
        "\(report.reconciled) message(s) in flight when the last run stopped were already in the target")
    }
  }

  // MARK: Batches

  private struct Progress {
    var lastUID: UInt32
    var allUIDs: Set<UInt32>
    var finished: Set<UInt32> = []
    var filteredOut: Bool

    /// The highest UID such that every work UID up to it is finished (copied, duplicate or
    /// failed and recorded). Filtered messages stop it: a later run without the filter must
    /// still see them.
    mutating func advance() -> UInt32? {
      guard !filteredOut else { return nil }
      let next = allUIDs.filter { $0 > lastUID }.sorted()
      var moved = false
      for uid in next {
        guard finished.contains(uid) else { break }
        lastUID = uid
        moved = true
      }
      return moved ? lastUID : nil
    }
  }

  private func copyBatch(
    _ batch: [MessageMetadata], state: FolderState, validity: UInt32, target targetSelected: SelectedMailbox?,
    progress: inout Progress
  ) throws {
    let bodies = try source.fetchMessages(UIDSet(batch.map(\.uid)))
    let byUID = Dictionary(bodies.map { ($0.uid, $0.bytes) }, uniquingKeysWith: { first, _ in first })
    var toCopy: [(MessageMetadata, MessageRecord, [UInt8])] = []
    var duplicates: [(record: MessageRecord, targetUID: UInt32?)] = []
    for message in batch {
      guard let bytes = byUID[message.uid] else {
        // Expunged from the source since the search: nothing to copy.
        progress.finished.insert(message.uid)
        continue
      }
      let hash = ContentHasher.hash(bytes)
      let messageID = MessageID(message: bytes)
      let record = MessageRecord(
        sourceUIDValidity: validity, sourceUID: message.uid, messageID: messageID, sha256: hash, size: bytes.count)
      if isDuplicate(hash: hash, messageID: messageID) {
        var matched: UInt32?
        if var uids = foreign[hash], !uids.isEmpty {
          matched = uids.removeFirst() ?? nil
          foreign[hash] = uids
        }
        sourceDone[hash, default: 0] += 1
        duplicates.append((record, matched))
      } else {
        sourceDone[hash, default: 0] += 1
        targetCopies[hash, default: 0] += 1
        if let messageID { targetMessageIDs.insert(messageID) }
        toCopy.append((message, record, bytes))
      }
    }
    report.duplicates += duplicates.count
    guard !options.dryRun else {
      report.copied += toCopy.count
      report.copiedBytes += toCopy.reduce(0) { $0 + $1.2.count }
      return
    }
    if !duplicates.isEmpty {
      duplicates.forEach { progress.finished.insert($0.record.sourceUID) }
      try store.recordDuplicates(
        folder: state.id, run: run, messages: duplicates, targetUIDValidity: targetSelected?.uidValidity,
        lastUID: progress.advance())
    }
    guard !toCopy.isEmpty else {
      events(.batchDone(source: plan.source.name, copied: 0, duplicates: duplicates.count, bytes: 0))
      return
    }

    // Intent first, then the target, then the commit (docs/checkpoint.md).
    try store.recordIntent(folder: state.id, run: run, messages: toCopy.map(\.1))
    let outgoing = toCopy.map { message, _, bytes in
      AppendMessage(
        bytes: bytes, flags: flags(message.flags, target: targetSelected), internalDate: message.internalDate)
    }
    let targetName = target.mailboxName(plan.targetName)
    var outcomes: [AppendOutcome]
    if outgoing.count > 1 && target.has("MULTIAPPEND") {
      do {
        let uids = try target.append(outgoing, to: targetName)
        outcomes = (0..<outgoing.count).map { .appended(uid: uids?[$0]) }
      } catch IMAPError.commandFailed {
        // All or nothing: nothing went in. One by one, to learn which message is refused.
        outcomes = try target.appendEach(outgoing, to: targetName)
      }
    } else {
      outcomes = try target.appendEach(outgoing, to: targetName)
    }

    var copies: [(sourceUID: UInt32, targetUID: UInt32?)] = []
    var refused: [UInt32] = []
    for ((message, record, bytes), outcome) in zip(toCopy, outcomes) {
      switch outcome {
      case .appended(let uid):
        copies.append((record.sourceUID, uid))
        report.copied += 1
        report.copiedBytes += bytes.count
      case .refused(let status):
        refused.append(record.sourceUID)
        let reason = "\(status.kind.rawValue) \(status.text)"
        report.failed.append((message.uid, reason))
        try store.recordFailure(
          folder: state.id, run: run, sourceUIDValidity: validity, sourceUID: message.uid, reason: reason)
        targetCopies[record.sha256, default: 1] -= 1
      }
      progress.finished.insert(record.sourceUID)
    }
    if !refused.isEmpty { try store.discardPending(folder: state.id, sourceUIDValidity: validity, sourceUIDs: refused) }
    try store.commitCopied(
      folder: state.id, sourceUIDValidity: validity, copies: copies, targetUIDValidity: targetSelected?.uidValidity,
      lastUID: progress.advance())
    events(
      .batchDone(
        source: plan.source.name, copied: copies.count, duplicates: duplicates.count,
        bytes: toCopy.reduce(0) { $0 + $1.2.count }))
  }

  private func isDuplicate(hash: SHA256Digest, messageID: MessageID?) -> Bool {
    switch options.dedup {
    case .none: return false
    case .hash: return sourceDone[hash, default: 0] < targetCopies[hash, default: 0]
    case .messageID:
      if sourceDone[hash, default: 0] < targetCopies[hash, default: 0] { return true }
      if let messageID { return targetMessageIDs.contains(messageID) }
      return false
    }
  }

  /// Source flags the target keeps: `\Recent` never (the server sets it), keywords only
  /// where PERMANENTFLAGS allows them (the others are reported).
  private func flags(_ flags: [String], target: SelectedMailbox?) -> [String] {
    flags.filter { flag in
      if flag.uppercased() == "\\RECENT" { return false }
      guard let target, !flag.hasPrefix("\\") else { return true }
      if target.accepts(keyword: flag) { return true }
      report.droppedKeywords.insert(flag)
      return false
    }
  }
}

public enum EngineError: Error, Equatable, CustomStringConvertible {
  case noUIDValidity(folder: String)

  public var description: String {
    switch self {
    case .noUIDValidity(let folder): return "\(folder): the source server reported no UIDVALIDITY"
    }
  }
}
