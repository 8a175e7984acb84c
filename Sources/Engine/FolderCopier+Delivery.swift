import Checkpoint
import MailCore
import Mailstore

extension FolderCopier {
  typealias Outgoing = (message: SourceMessage, record: MessageRecord, bytes: MessageBody)

  /// The groups a batch is delivered in when the sink cannot be searched: one message at a
  /// time, or with several delivery sessions as many as there are sessions. Each group is
  /// recorded as in flight before it is sent and committed after, so a stop leaves at most
  /// one group in doubt.
  func deliveryGroups(_ toCopy: [Outgoing]) -> [[Outgoing]] {
    // As many as there are sessions: opened here, so a server that refuses more
    // connections shrinks the groups instead of leaving a group without sessions.
    let size = delivery.map { $0.sessions(main: sink, wanted: $0.count, folder: report.target).count } ?? 1
    return stride(from: 0, to: toCopy.count, by: size).map { Array(toCopy[$0..<min($0 + size, toCopy.count)]) }
  }

  /// Hands messages to the sink: a group of several over that many delivery sessions at
  /// once, anything else to the copier's own session.
  func storeOutgoing(_ outgoing: [MessageToStore], origins: [MessageOrigin]) throws -> [StoreOutcome] {
    guard let delivery, outgoing.count > 1, !sink.isSearchable else {
      return try sink.store(outgoing, origins: origins)
    }
    let sessions = delivery.sessions(main: sink, wanted: outgoing.count, folder: report.target)
    guard sessions.count == outgoing.count else {
      // Not reached: groups are never larger than the sessions open.
      return try sink.store(outgoing, origins: origins)
    }
    let results = delivery.deliver(outgoing, origins: origins, over: sessions)
    var outcomes: [StoreOutcome] = []
    for result in results {
      guard case .success(let outcome) = result else { throw PartialDelivery(results: results) }
      outcomes.append(outcome)
    }
    return outcomes
  }

  /// Delivers one group with intent, store and commit; when some of its deliveries ended in
  /// an error, commits those the server accepted, forgets those it refused or throttled
  /// (nothing of them is in doubt), leaves the rest in flight for the next attempt to
  /// settle, and throws the error.
  func deliverGroup(
    _ group: [Outgoing], state: FolderState, validity: UInt32, sinkFolder: SinkFolderState?, progress: inout Progress,
    counts: inout (copied: Int, refused: Int)
  ) throws {
    do {
      try storeAndCommit(
        group, state: state, validity: validity, sinkFolder: sinkFolder, progress: &progress, counts: &counts)
    } catch let partial as PartialDelivery {
      var copies: [(sourceUID: UInt32, targetUID: UInt32?)] = []
      var notDelivered: [UInt32] = []
      for (item, result) in zip(group, partial.results) {
        switch result {
        case .success(.stored(let id)), .success(.storedWithNote(let id, _)):
          copies.append((item.record.sourceUID, id))
        case .success(.partlyStored(let id, let refusals)):
          copies.append((item.record.sourceUID, id))
          for refusal in refusals {
            report.recipientRefusals.append((item.message.key, refusal))
            events(.refused(source: plan.source.name, uid: item.message.key, reason: refusal))
          }
        case .success(.refused):
          notDelivered.append(item.record.sourceUID)
        case .failure(let error) where ErrorClass.isThrottling(error):
          notDelivered.append(item.record.sourceUID)
        case .failure:
          break
        }
      }
      for (uid, _) in copies { progress.finished.insert(uid) }
      report.copied += copies.count
      report.copiedBytes += group.filter { item in copies.contains { $0.sourceUID == item.record.sourceUID } }
        .reduce(0) { $0 + $1.bytes.count }
      counts.copied += copies.count
      try store.discardPending(folder: state.id, sourceUIDValidity: validity, sourceUIDs: notDelivered)
      try store.commitCopied(
        folder: state.id, sourceUIDValidity: validity, copies: copies, targetUIDValidity: sinkFolder?.validity,
        lastUID: progress.advance())
      throw partial.error
    }
  }
}
