import Checkpoint
import MailCore
import Mailstore

/// What a read-back compares a stored copy with, kept once the message's bytes are gone:
/// its sizes and normalised header, and the message itself (to locate the first byte that
/// differs) when it is spooled, which costs no memory, or its batch is settled at once.
struct SentCopy {
  let count: Int
  let normalizedCount: Int
  let normalizedHeader: [UInt8]
  let body: MessageBody?

  init(_ body: MessageBody, keepingBytes: Bool) {
    count = body.count
    normalizedCount = body.normalizedCount
    normalizedHeader = MessageBytes.normalized(MessageHeader.headerSection(of: body.headerBytes))
    self.body = keepingBytes || body.isSpooled ? body : nil
  }
}

/// A batch the sink has taken, awaiting its read-back and commit.
struct StoredBatch {
  typealias Item = (message: SourceMessage, record: MessageRecord, sent: SentCopy, outcome: StoreOutcome)
  let items: [Item]
  /// For the batch's progress event.
  let duplicates: Int
  let bytes: Int
}

extension FolderCopier {
  /// Messages a searchable sink holds before they are read back and committed together.
  /// After an APPEND into a large folder a server spends most of a read-back bringing its
  /// view of the folder up to date, once per command: one read-back per group of batches
  /// pays that once (docs/benchmarks.md). A whole-content read-back, which moves every byte
  /// again, and a dry run settle each batch at once.
  var readBackGroupSize: Int {
    readBackDepth == .content ? 0 : 4 * options.batchCount
  }

  /// Records the intent, hands the batch to the sink and queues it; settles the queue once
  /// it holds `readBackGroupSize` messages.
  func storeForReadBack(
    _ toCopy: [Outgoing], duplicates: Int, state: FolderState, validity: UInt32, sinkFolder: SinkFolderState?,
    progress: inout Progress
  ) throws {
    let group = readBackGroupSize
    unsettled.append(
      try storeBatch(
        toCopy, duplicates: duplicates, state: state, validity: validity, sinkFolder: sinkFolder,
        keepingBytes: group == 0))
    if unsettled.reduce(0, { $0 + $1.items.count }) >= group {
      try settleStored(state: state, validity: validity, sinkFolder: sinkFolder, progress: &progress)
    }
  }

  /// Reads back and commits every queued batch. The queue is emptied first: a settle that
  /// fails leaves its messages in flight for the next run to find, never half-recorded twice.
  func settleStored(
    state: FolderState, validity: UInt32, sinkFolder: SinkFolderState?, progress: inout Progress
  ) throws {
    guard !unsettled.isEmpty else { return }
    let batches = unsettled
    unsettled = []
    let counts = try settle(batches, state: state, validity: validity, sinkFolder: sinkFolder, progress: &progress)
    for (batch, count) in zip(batches, counts) {
      events(
        .batchDone(
          source: plan.source.name, copied: count.copied, duplicates: batch.duplicates, failed: count.refused,
          bytes: batch.bytes))
    }
  }

  /// Intent, store and commit of one group at once: for deliveries, which cannot be read
  /// back, and whose groups are in doubt until committed.
  func storeAndCommit(
    _ toCopy: [Outgoing], state: FolderState, validity: UInt32, sinkFolder: SinkFolderState?,
    progress: inout Progress, counts: inout (copied: Int, refused: Int)
  ) throws {
    let stored = try storeBatch(
      toCopy, duplicates: 0, state: state, validity: validity, sinkFolder: sinkFolder, keepingBytes: true)
    let settled = try settle([stored], state: state, validity: validity, sinkFolder: sinkFolder, progress: &progress)
    counts.copied += settled[0].copied
    counts.refused += settled[0].refused
  }

  /// Intent first, then the sink (docs/checkpoint.md); the commit follows in `settle`.
  func storeBatch(
    _ toCopy: [Outgoing], duplicates: Int, state: FolderState, validity: UInt32, sinkFolder: SinkFolderState?,
    keepingBytes: Bool
  ) throws -> StoredBatch {
    try store.recordIntent(folder: state.id, run: run, messages: toCopy.map(\.record))
    CrashPoint.afterIntent.reached()
    let outgoing = toCopy.map { message, record, bytes in
      MessageToStore(
        body: bytes, flags: flags(message.flags + labelKeywords(message), sinkFolder: sinkFolder),
        receivedDate: message.receivedDate ?? Self.arrivalDate(of: bytes.headerBytes), contentHash: record.sha256)
    }
    let origins = toCopy.map { message, _, _ in
      MessageOrigin(
        account: sourceAccount, folder: plan.source.name, validity: validity, key: message.key, name: message.name)
    }
    let outcomes: [StoreOutcome]
    do {
      outcomes = try storeOutgoing(outgoing, origins: origins)
    } catch  where !sink.isSearchable && ErrorClass.isThrottling(error) {
      // A delivery refused as throttling (421, 451 at MAIL FROM) was not accepted: nothing
      // is in doubt, so the message is not "in flight" for the next attempt.
      try store.discardPending(
        folder: state.id, sourceUIDValidity: validity, sourceUIDs: toCopy.map(\.record.sourceUID))
      throw error
    }
    CrashPoint.afterStore.reached()
    let items = zip(toCopy, outcomes).map { item, outcome in
      (item.message, item.record, SentCopy(item.bytes, keepingBytes: keepingBytes), outcome)
    }
    return StoredBatch(items: items, duplicates: duplicates, bytes: toCopy.reduce(0) { $0 + $1.bytes.count })
  }

  /// Reads the batches' copies back in one go, records what is missing or altered, and
  /// commits the rest. Returns each batch's copied and refused counts.
  func settle(
    _ batches: [StoredBatch], state: FolderState, validity: UInt32, sinkFolder: SinkFolderState?,
    progress: inout Progress
  ) throws -> [(copied: Int, refused: Int)] {
    let findings = try checkStored(
      batches.flatMap { $0.items.map { ($0.record, $0.sent) } }, outcomes: batches.flatMap { $0.items.map(\.outcome) })
    var copies: [(sourceUID: UInt32, targetUID: UInt32?)] = []
    var notCopied: [UInt32] = []
    var counts: [(copied: Int, refused: Int)] = []
    for batch in batches {
      var count = (copied: 0, refused: 0)
      for (message, record, sent, outcome) in batch.items {
        if let failure = try settle(
          message, record: record, sent: sent, outcome: outcome, finding: findings[record.sourceUID], state: state,
          validity: validity)
        {
          notCopied.append(record.sourceUID)
          report.failed.append(failure)
          events(.refused(source: plan.source.name, uid: message.key, reason: failure.reason))
          try store.recordFailure(
            folder: state.id, run: run, sourceUIDValidity: validity, sourceUID: message.key, reason: failure.reason)
          targetCopies[record.sha256, default: 1] -= 1
          count.refused += 1
        } else {
          copies.append((record.sourceUID, outcome.storedID))
          count.copied += 1
        }
        progress.finished.insert(record.sourceUID)
      }
      counts.append(count)
    }
    if !notCopied.isEmpty {
      try store.discardPending(folder: state.id, sourceUIDValidity: validity, sourceUIDs: notCopied)
    }
    try store.commitCopied(
      folder: state.id, sourceUIDValidity: validity, copies: copies, targetUIDValidity: sinkFolder?.validity,
      lastUID: progress.advance())
    CrashPoint.afterCommit.reached()
    return counts
  }

  /// One stored message's verdict: nil when it counts as copied (reported as altered when
  /// it is), the failure when the sink refused it or does not hold it.
  private func settle(
    _ message: SourceMessage, record: MessageRecord, sent: SentCopy, outcome: StoreOutcome, finding: StoredFinding?,
    state: FolderState, validity: UInt32
  ) throws -> MessageFailure? {
    switch outcome {
    case .stored(let id), .partlyStored(let id, _), .storedWithNote(let id, _):
      if case .absent = finding {
        return MessageFailure(
          key: message.key, kind: .missingAfterStore,
          reason: "the target acknowledged it, but it is not there when read back" + (id.map { " (UID \($0))" } ?? ""),
          isTemporary: true)
      }
      if case .altered(let difference) = finding {
        let altered = AlteredMessage(
          key: message.key, targetID: id, messageID: record.messageID?.description, difference: difference)
        report.altered.append(altered)
        events(.altered(source: plan.source.name, uid: message.key, difference: difference))
        try store.recordAlteration(
          folder: state.id, run: run, sourceUIDValidity: validity, sourceUID: message.key, targetUID: id,
          difference: difference)
      }
      report.copied += 1
      report.copiedBytes += sent.count
      if case .storedWithNote(_, let note) = outcome { report.notes.append("UID \(message.key): \(note)") }
      if case .partlyStored(_, let refusals) = outcome {
        for refusal in refusals {
          report.recipientRefusals.append((message.key, refusal))
          events(.refused(source: plan.source.name, uid: message.key, reason: refusal))
        }
      }
      return nil
    case .refused(let refusal):
      return MessageFailure(
        key: message.key, kind: .refusedByTarget, reason: refusal.reason, isTemporary: refusal.isTemporary,
        hint: refusal.hint)
    }
  }
}

extension StoreOutcome {
  /// The id the sink gave a stored copy, if it gave one.
  fileprivate var storedID: UInt32? {
    switch self {
    case .stored(let id), .partlyStored(let id, _), .storedWithNote(let id, _): return id
    case .refused: return nil
    }
  }
}
