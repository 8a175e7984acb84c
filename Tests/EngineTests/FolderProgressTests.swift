import Testing

@testable import Engine

/// The folder's high-water mark: it moves only over settled UIDs, in order, whatever order
/// batches settle them in.
@Suite struct FolderProgressTests {
  @Test func markMovesOnlyOverAnUnbrokenRunOfSettledUIDs() {
    var progress = FolderCopier.Progress(lastUID: 10, work: [14, 12, 11, 20, 12, 3], filteredOut: false)
    #expect(progress.advance() == nil)
    progress.finished.insert(12)
    #expect(progress.advance() == nil, "11 is not settled yet")
    progress.finished.insert(11)
    #expect(progress.advance() == 12)
    progress.finished.insert(20)
    #expect(progress.advance() == nil, "14 holds the mark")
    progress.finished.insert(14)
    #expect(progress.advance() == 20)
    #expect(progress.lastUID == 20)
    #expect(progress.advance() == nil, "nothing left to pass")
  }

  @Test func earlierFailuresTriedAgainDoNotHoldTheMark() {
    // UID 3 failed in an earlier run and is in the work again; the mark is already past it.
    var progress = FolderCopier.Progress(lastUID: 10, work: [3, 11], filteredOut: false)
    progress.finished.insert(11)
    #expect(progress.advance() == 11)
    progress.finished.insert(3)
    #expect(progress.advance() == nil)
    #expect(progress.lastUID == 11)
  }

  @Test func filteredRunsNeverMoveTheMark() {
    var progress = FolderCopier.Progress(lastUID: 0, work: [1, 2], filteredOut: true)
    progress.finished.formUnion([1, 2])
    #expect(progress.advance() == nil)
    #expect(progress.lastUID == 0)
  }

  @Test func aLargeFolderSettledBatchByBatchEndsAtItsLastUID() {
    let work = Array(UInt32(1)...50_000)
    var progress = FolderCopier.Progress(lastUID: 0, work: work.reversed(), filteredOut: false)
    var marks: [UInt32] = []
    for batch in stride(from: 0, to: work.count, by: 100) {
      for uid in work[batch..<min(batch + 100, work.count)] { progress.finished.insert(uid) }
      if let mark = progress.advance() { marks.append(mark) }
    }
    #expect(marks.count == 500)
    #expect(marks.last == 50_000)
    #expect(marks == marks.sorted())
    #expect(progress.finished.isEmpty, "passed UIDs are not kept")
  }
}
