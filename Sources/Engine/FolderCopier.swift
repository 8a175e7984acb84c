import Checkpoint
import MailCore
import Mailstore

/// Copies one folder from a source to a sink, exactly once, resuming from the checkpoint
/// (docs/checkpoint.md). Runs on the thread that owns both sessions and the store.
final class FolderCopier {
  let plan: PlannedFolder
  let source: any MessageSource
  let sink: any MessageSink
  let store: CheckpointStore
  let run: Int64
  let options: MigrationOptions
  let events: (MigrationEvent) -> Void
  let shouldStop: () -> Bool
  /// The source account as the job names it (recorded with each message an archive stores).
  let sourceAccount: String
  var report: FolderReport
  /// The job's room under its provider's daily volume limits, if it has any.
  var volume: DailyVolume?
  /// For a label source (Gmail): which messages the job's other folders hold.
  var ledger: LabelLedger?
  /// The job's `--max-rate` bucket, shared with the other workers.
  var rate: RateLimiter?
  /// For a delivery sink (SMTP, LMTP): the sessions a group of messages is delivered over.
  var delivery: DeliverySessions?

  init(
    plan: PlannedFolder, source: any MessageSource, sink: any MessageSink, store: CheckpointStore, run: Int64,
    options: MigrationOptions, sourceAccount: String, events: @escaping (MigrationEvent) -> Void,
    shouldStop: @escaping () -> Bool
  ) {
    self.sourceAccount = sourceAccount
    self.plan = plan
    self.source = source
    self.sink = sink
    self.store = store
    self.run = run
    self.options = options
    self.events = events
    self.shouldStop = shouldStop
    report = FolderReport(source: plan.source.name, target: plan.targetName)
  }

  /// Target messages by content hash that the checkpoint does not account for.
  var foreign: [SHA256Digest: [UInt32?]] = [:]
  /// Per hash: copies the target holds, and source messages (this validity) matched to them.
  var targetCopies: [SHA256Digest: Int] = [:]
  var sourceDone: [SHA256Digest: Int] = [:]
  var targetMessageIDs: Set<MessageID> = []
  /// Batches the sink has taken that are not yet read back and committed.
  var unsettled: [StoredBatch] = []

  func copy() throws -> FolderReport {
    var state = try store.folder(sourceName: plan.source.name, targetName: plan.targetName)
    let opened = try source.open(plan.source.name, keyMap: CheckpointKeyMap(store: store, folder: state.id))
    if let reason = opened.sessionKeysOnly {
      report.notes.append(reason)
    }
    if let previous = state.sourceUIDValidity, previous != opened.validity {
      if opened.sessionKeysOnly == nil {
        report.notes.append(
          "UIDVALIDITY changed (\(previous) → \(opened.validity)): matching by content, not copying again")
      }
      if !options.dryRun { try store.resetProgress(folder: state.id) }
      state.sourceLastUID = 0
      state.sourceHighestModSeq = nil
    }
    state.sourceUIDValidity = opened.validity

    let sinkFolder = try openTarget()
    if let note = sinkFolder?.note { report.notes.append(note) }
    state.targetName = report.target
    state.targetUIDValidity = sinkFolder?.validity
    if !options.dryRun { try store.update(state) }

    let alteredEarlier = try store.alterations(folder: state.id).count
    let work = try listWork(state: state, sourceValidity: opened.validity, sinkFolder: sinkFolder)
    let selected = select(try source.metadata(work).sorted { $0.key < $1.key })
    report.considered = selected.count
    events(
      .folderStarted(
        source: plan.source.name, target: plan.targetName, toDo: selected.count,
        bytes: selected.reduce(0) { $0 + $1.size }))

    var progress = Progress(lastUID: state.sourceLastUID, work: work, filteredOut: report.filtered > 0)
    let unlabelled = try leaveOutLabelled(selected, state: state, progress: &progress)
    let fitting = try refuseOversized(unlabelled, state: state, validity: opened.validity, progress: &progress)
    // The next batch is read from the source while the current one is stored.
    let batches = batches(of: fitting)
    var next = batches.first.map { startFetch($0) }
    defer { next?.abandon() }
    do {
      for (index, batch) in batches.enumerated() {
        let fetched = try next!.wait()
        next = index + 1 < batches.count && !shouldStop() ? startFetch(batches[index + 1]) : nil
        try copyBatch(
          batch, fetched: fetched, state: state, validity: opened.validity, sinkFolder: sinkFolder,
          progress: &progress)
        if index + 1 < batches.count && shouldStop() {
          try settleStored(state: state, validity: opened.validity, sinkFolder: sinkFolder, progress: &progress)
          report.interrupted = true
          return report
        }
      }
      try settleStored(state: state, validity: opened.validity, sinkFolder: sinkFolder, progress: &progress)
    } catch {
      // What the sink took before the failure is settled if the sink still answers; if it
      // does not, those copies stay in flight for the next attempt to find.
      try? settleStored(state: state, validity: opened.validity, sinkFolder: sinkFolder, progress: &progress)
      throw error
    }
    guard !options.dryRun else { return report }
    if alteredEarlier > 0 && report.altered.isEmpty {
      report.notes.append(
        "\(alteredEarlier) copies were found altered by the target in earlier runs; they stay as it stored them")
    }
    if options.syncFlags, let sinkFolder {
      try syncFlags(state: state, validity: opened.validity, sinkFolder: sinkFolder)
    }
    // Remember where flag changes are to be read from next time, once they are carried;
    // a run without --sync-flags must not move the mark past changes it did not carry.
    if options.syncFlags {
      state.sourceHighestModSeq = opened.highestModSeq
      try store.update(state)
    }
    if sink.recordsSourcePresence {
      try sink.noteSourcePresence(
        account: sourceAccount, folder: plan.source.name, validity: opened.validity, keys: try source.keys(after: 0))
    }
    if options.deleteSource, let sinkFolder {
      try deleteCopied(state: state, validity: opened.validity, sinkFolder: sinkFolder)
    }
    return report
  }

  /// Applies `--since`, `--before` and `--max-size`, counting what they leave out.
  private func select(_ messages: [SourceMessage]) -> [SourceMessage] {
    messages.filter { message in
      let date = message.receivedDate?.secondsSince1970
      if let since = options.since, let date, date < since {
        report.filtered += 1
        return false
      }
      if let before = options.before, let date, date >= before {
        report.filtered += 1
        return false
      }
      if let maxSize = options.maxSize, message.size > maxSize {
        report.filtered += 1
        return false
      }
      return true
    }
  }

  // MARK: Batches

  private func copyBatch(
    _ batch: [SourceMessage], fetched: FetchedBatch, state: FolderState, validity: UInt32,
    sinkFolder: SinkFolderState?, progress: inout Progress
  ) throws {
    let (bodies, unreadable) = (fetched.bodies, fetched.unreadable)
    var toCopy: [(message: SourceMessage, record: MessageRecord, bytes: MessageBody)] = []
    var duplicates: [(record: MessageRecord, targetUID: UInt32?)] = []
    var inOtherLabels = 0
    for message in batch {
      if let reason = unreadable[message.key] {
        // There, but its bytes cannot be read: a failure, tried again by the next run.
        report.failed.append(
          MessageFailure(key: message.key, kind: .unreadableInSource, reason: reason, isTemporary: false))
        events(.refused(source: plan.source.name, uid: message.key, reason: reason))
        if !options.dryRun {
          try store.recordFailure(
            folder: state.id, run: run, sourceUIDValidity: validity, sourceUID: message.key, reason: reason)
        }
        progress.finished.insert(message.key)
        continue
      }
      guard let bytes = bodies[message.key] else {
        // Expunged from the source since it was listed: nothing to copy.
        progress.finished.insert(message.key)
        continue
      }
      let hash = bytes.contentHash
      let messageID = MessageID(message: bytes.headerBytes)
      let record = MessageRecord(
        sourceUIDValidity: validity, sourceUID: message.key, messageID: messageID, sha256: hash, size: bytes.count)
      if try isInOtherLabel(hash, state: state) {
        // Copied for another label of a label source: recorded here, not copied again.
        inOtherLabels += 1
        duplicates.append((record, nil))
      } else if let reason = duplicateReason(hash: hash, messageID: messageID) {
        if reason == .sameMessageID { report.duplicatesByMessageID += 1 }
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
    report.duplicates += duplicates.count - inOtherLabels
    report.inOtherLabels += inOtherLabels
    guard !options.dryRun else {
      report.copied += toCopy.count
      report.copiedBytes += toCopy.reduce(0) { $0 + $1.bytes.count }
      return
    }
    if !duplicates.isEmpty {
      duplicates.forEach { progress.finished.insert($0.record.sourceUID) }
      try store.recordDuplicates(
        folder: state.id, run: run, messages: duplicates, targetUIDValidity: sinkFolder?.validity,
        lastUID: progress.advance())
    }
    guard !toCopy.isEmpty else {
      events(.batchDone(source: plan.source.name, copied: 0, duplicates: duplicates.count, failed: 0, bytes: 0))
      return
    }

    // Intent first, then the sink, then the commit (docs/checkpoint.md). A sink that
    // cannot be searched afterwards (SMTP, LMTP) gets one message per transaction, a group
    // of them over as many sessions at once, so at most one group is ever in doubt.
    // A searchable sink's batches are read back and committed in groups (FolderCopier+Settling).
    if sink.isSearchable {
      try storeForReadBack(
        toCopy, duplicates: duplicates.count, state: state, validity: validity, sinkFolder: sinkFolder,
        progress: &progress)
      return
    }
    var counts = (copied: 0, refused: 0)
    for group in deliveryGroups(toCopy) {
      try deliverGroup(
        group, state: state, validity: validity, sinkFolder: sinkFolder, progress: &progress, counts: &counts)
    }
    events(
      .batchDone(
        source: plan.source.name, copied: counts.copied, duplicates: duplicates.count, failed: counts.refused,
        bytes: toCopy.reduce(0) { $0 + $1.bytes.count }))
  }

  enum DuplicateReason { case sameContent, sameMessageID }

  /// For sources without an arrival date (POP3): the one the message's header gives, so the
  /// target does not file years of mail under today.
  static func arrivalDate(of bytes: [UInt8]) -> ReceivedDate? {
    MessageDate.arrival(in: bytes).map {
      ReceivedDate(secondsSince1970: $0.secondsSince1970, zoneMinutes: $0.zoneMinutes)
    }
  }

  /// Why the target already holds this message, or nil when it is to be copied.
  private func duplicateReason(hash: SHA256Digest, messageID: MessageID?) -> DuplicateReason? {
    guard options.dedup != .none else { return nil }
    if sourceDone[hash, default: 0] < targetCopies[hash, default: 0] { return .sameContent }
    if options.dedup == .messageID, let messageID, targetMessageIDs.contains(messageID) { return .sameMessageID }
    return nil
  }

  /// Source flags the sink keeps: `\Recent` never (the server sets it), keywords only where
  /// the folder's PERMANENTFLAGS allow them (the others are reported).
  func flags(_ flags: [String], sinkFolder: SinkFolderState?) -> [String] {
    flags.filter { flag in
      if flag.uppercased() == "\\RECENT" { return false }
      guard let sinkFolder, !flag.hasPrefix("\\") else { return true }
      if sinkFolder.accepts(keyword: flag) { return true }
      report.droppedKeywords.insert(flag)
      return false
    }
  }
}
