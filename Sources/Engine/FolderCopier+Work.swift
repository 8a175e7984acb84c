import Checkpoint
import Mailstore

extension FolderCopier {
  /// The source UIDs this run is to settle, ascending: what is new since the high-water
  /// mark, plus earlier failures, minus what is done. Settles what a killed run left in
  /// flight first.
  ///
  /// The target's inventory (hashing target messages the checkpoint does not know, for
  /// deduplication and for settling messages in flight) is taken only when there is
  /// something to copy or to settle: a rerun with nothing new lists the UIDs above the mark
  /// and stops, whatever the folder's size.
  func listWork(state: FolderState, sourceValidity: UInt32, sinkFolder: SinkFolderState?) throws -> [UInt32] {
    var work = try source.keys(after: state.sourceLastUID)
    for failure in try store.failures(folder: state.id) where failure.sourceUIDValidity == sourceValidity {
      work.append(failure.sourceUID)
    }
    let inFlight = try store.pending(folder: state.id)
    guard !work.isEmpty || !inFlight.isEmpty else { return [] }
    try takeInventory(state: state, sourceValidity: sourceValidity, sinkFolder: sinkFolder)
    try reconcilePending(state: state, sinkValidity: sinkFolder?.validity)
    // Only done rows from the lowest work UID up can matter.
    guard let lowest = work.min() else { return [] }
    let done = try store.doneUIDs(folder: state.id, sourceUIDValidity: sourceValidity, above: lowest - 1)
    return Set(work).subtracting(done).sorted()
  }
}
