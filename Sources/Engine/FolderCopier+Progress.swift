extension FolderCopier {
  /// Where the folder's high-water mark may move as batches finish.
  ///
  /// The work UIDs above the mark are sorted once; each `advance` walks a cursor over them
  /// from where the last one stopped, so a folder of n messages costs O(n) over the whole
  /// run instead of a filter and sort of every UID per batch.
  struct Progress {
    private(set) var lastUID: UInt32
    /// The work UIDs above the mark at the start, ascending, without repeats.
    private let pending: [UInt32]
    /// The first of `pending` not yet passed by the mark.
    private var cursor = 0
    /// Settled work UIDs (copied, duplicate, or failed and recorded) the mark has not
    /// passed yet; `advance` takes out those it passes.
    var finished: Set<UInt32> = []
    let filteredOut: Bool

    /// `work`: the UIDs this run is to settle, in any order; those at or below `lastUID`
    /// (earlier failures tried again) never hold the mark back.
    init(lastUID: UInt32, work: [UInt32], filteredOut: Bool) {
      self.lastUID = lastUID
      var above = work.filter { $0 > lastUID }
      above.sort()
      pending = Self.withoutRepeats(above)
      self.filteredOut = filteredOut
    }

    /// The highest UID such that every work UID up to it is finished (copied, duplicate or
    /// failed and recorded), when it moved. Filtered messages stop it: a later run without
    /// the filter must still see them.
    mutating func advance() -> UInt32? {
      guard !filteredOut else { return nil }
      var moved = false
      while cursor < pending.count, finished.remove(pending[cursor]) != nil {
        lastUID = pending[cursor]
        cursor += 1
        moved = true
      }
      return moved ? lastUID : nil
    }

    private static func withoutRepeats(_ sorted: [UInt32]) -> [UInt32] {
      var result: [UInt32] = []
      result.reserveCapacity(sorted.count)
      for uid in sorted where result.last != uid { result.append(uid) }
      return result
    }
  }
}
