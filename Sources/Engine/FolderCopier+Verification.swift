import Checkpoint
import MailCore
import Mailstore

/// What reading back a stored copy found wrong with it.
enum StoredFinding: Equatable {
  /// The sink acknowledged the message but does not hold it.
  case absent
  /// The sink holds other bytes than it was given: what differs, in words.
  case altered(String)
}

extension FolderCopier {
  /// Reads back what the sink just stored, by the ids it gave, to `readBackDepth`, and says
  /// which copies are missing or differ from what was sent. Copies without an id (a
  /// delivery, a server without UIDPLUS) cannot be read back and are counted apart.
  func checkStored(
    _ sent: [(record: MessageRecord, sent: SentCopy)], outcomes: [StoreOutcome]
  ) throws -> [UInt32: StoredFinding] {
    guard let depth = readBackDepth else { return [:] }
    var idOf: [UInt32: UInt32] = [:]
    for (item, outcome) in zip(sent, outcomes) {
      switch outcome {
      case .stored(let id), .partlyStored(let id, _), .storedWithNote(let id, _):
        if let id { idOf[item.record.sourceUID] = id } else { report.unverified += 1 }
      case .refused: break
      }
    }
    guard !idOf.isEmpty else { return [:] }
    let copies = try sink.readBack(Array(idOf.values), depth: depth)
    var findings: [UInt32: StoredFinding] = [:]
    for (record, sentCopy) in sent {
      guard let id = idOf[record.sourceUID] else { continue }
      report.verified += 1
      guard let copy = copies[id] else {
        findings[record.sourceUID] = .absent
        continue
      }
      if let difference = try difference(sent: sentCopy, record: record, stored: copy, id: id) {
        findings[record.sourceUID] = .altered(difference)
      }
    }
    return findings
  }

  /// How the stored copy differs from the sent bytes, line endings aside; nil when it does not.
  private func difference(
    sent: SentCopy, record: MessageRecord, stored copy: StoredCopy, id: UInt32
  ) throws -> String? {
    let sizeDiffers = copy.size != UInt64(sent.count) && copy.size != UInt64(sent.normalizedCount)
    var headerDiffers = false
    if let header = copy.header, header.count < StoredCopy.headerLimit {
      if let found = MessageBytes.firstDifference(sent.normalizedHeader, MessageBytes.normalized(header)) {
        if !sizeDiffers { return "header \(found)" + Self.sameSize }
        headerDiffers = true
      }
    }
    let contentDiffers = copy.sha256.map { $0 != record.sha256 } ?? false
    guard sizeDiffers || headerDiffers || contentDiffers else { return nil }
    // Find the first byte that differs in the whole copy (read once more; rare), a chunk
    // at a time, when the sent message is still held: a spooled one always, one in memory
    // only when its batch was read back alone.
    var text = sizeDiffers ? "size \(copy.size) bytes, sent \(sent.count)" : "content differs"
    let limit = MessageSizeLimits.tolerated(listedSize: max(UInt64(sent.count), copy.size))
    if let body = sent.body, let stored = try sink.storedBody(of: id, atMost: limit, spooling: options.spoolPolicy),
      let found = try body.firstDifference(from: stored)
    {
      text += "; first difference at \(found)"
    }
    return text + (sizeDiffers ? "" : Self.sameSize)
  }

  private static let sameSize = " (same size: only the bytes were changed)"

  /// How deep this run reads back stored copies: what the options ask, as far as the sink can.
  var readBackDepth: ReadBackDepth? { Self.readBackDepth(options.verify, sink: sink) }

  static func readBackDepth(_ mode: MigrationOptions.VerifyMode, sink: any MessageSink) -> ReadBackDepth? {
    switch mode {
    case .off: return nil
    case .automatic: return sink.inexpensiveReadBackDepth
    case .at(let wanted): return sink.readBackDepth.map { min(wanted, $0) }
    }
  }
}
