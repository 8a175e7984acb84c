import Checkpoint
import Foundation
import MailCore
import Storage
import Testing

@Suite struct CheckpointStoreTests {
  let directory = NSTemporaryDirectory() + "mailferry-checkpoint-\(UUID().uuidString)"
  var path: String { directory + "/state/job.sqlite" }

  func record(_ uid: UInt32, _ text: String = "", validity: UInt32 = 7) -> MessageRecord {
    let bytes = Array("Message-ID: <m\(uid)@Example.org>\r\n\r\n\(text.isEmpty ? "body \(uid)" : text)\r\n".utf8)
    return MessageRecord(
      sourceUIDValidity: validity, sourceUID: uid, messageID: MessageID(message: bytes),
      sha256: ContentHasher.hash(bytes), size: bytes.count)
  }

  @Test func stateFileIsPrivateAndBelongsToOneJob() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    _ = try CheckpointStore(path: path, source: "imaps://a@src", target: "imaps://b@dst")
    #expect(try FileSecurity.permissions(ofPath: path) == 0o600)
    #expect(try FileSecurity.permissions(ofPath: directory + "/state") == 0o700)
    _ = try CheckpointStore(path: path, source: "imaps://a@src", target: "imaps://b@dst")
    #expect(throws: CheckpointError.otherJob(path: path, source: "imaps://a@src", target: "imaps://b@dst")) {
      _ = try CheckpointStore(path: path, source: "imaps://a@src", target: "imaps://c@elsewhere")
    }
  }

  @Test func intentThenCommitAdvancesTheHighWaterMark() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try CheckpointStore(path: path, source: "s", target: "t")
    let run = try store.beginRun()
    var folder = try store.folder(sourceName: "Projekte/Größe & Co", targetName: "Projekte.Größe & Co")
    folder.sourceUIDValidity = 7
    folder.sourceHighestModSeq = UInt64(Int64.max) + 5  // large mod-sequences survive
    try store.update(folder)
    try store.recordIntent(folder: folder.id, run: run, messages: [record(1), record(2)])
    #expect(try store.pending(folder: folder.id).map(\.sourceUID) == [1, 2])
    #expect(try !store.isDone(folder: folder.id, sourceUIDValidity: 7, sourceUID: 1))

    try store.commitCopied(
      folder: folder.id, sourceUIDValidity: 7, copies: [(1, 101), (2, nil)], targetUIDValidity: 99, lastUID: 2)
    #expect(try store.pending(folder: folder.id).isEmpty)
    #expect(try store.isDone(folder: folder.id, sourceUIDValidity: 7, sourceUID: 2))
    let reloaded = try #require(try store.folders().first)
    #expect(reloaded.sourceLastUID == 2)
    #expect(reloaded.sourceHighestModSeq == UInt64(Int64.max) + 5)
    #expect(reloaded.sourceUIDValidity == 7)
    #expect(try store.counts(folder: folder.id) == (2, 0, 0, 0))
    try store.finishRun(run, outcome: "complete")
  }

  @Test func aKilledRunLeavesPendingRowsForReconciliation() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    do {
      let store = try CheckpointStore(path: path, source: "s", target: "t")
      let run = try store.beginRun()
      let folder = try store.folder(sourceName: "INBOX", targetName: "INBOX")
      try store.recordIntent(folder: folder.id, run: run, messages: [record(5), record(6), record(7)])
      // The process dies here: no commit.
    }
    let store = try CheckpointStore(path: path, source: "s", target: "t")
    let folder = try store.folder(sourceName: "INBOX", targetName: "INBOX")
    let pending = try store.pending(folder: folder.id)
    #expect(pending.map(\.sourceUID) == [5, 6, 7])
    #expect(pending[0].messageID?.normalized == "m5@example.org")
    #expect(pending[0] == record(5))
    // Reconciliation: 5 and 6 reached the target, 7 did not.
    try store.commitCopied(
      folder: folder.id, sourceUIDValidity: 7, copies: [(5, 50), (6, 51)], targetUIDValidity: 1, lastUID: nil)
    try store.discardPending(folder: folder.id, sourceUIDValidity: 7, sourceUIDs: [7])
    #expect(try store.pending(folder: folder.id).isEmpty)
    #expect(try !store.isDone(folder: folder.id, sourceUIDValidity: 7, sourceUID: 7))
    #expect(try store.folders().first?.sourceLastUID == 0)  // no contiguous progress claimed
  }

  @Test func committingWhatWasNeverRecordedIsRefused() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try CheckpointStore(path: path, source: "s", target: "t")
    let folder = try store.folder(sourceName: "INBOX", targetName: "INBOX")
    #expect(throws: CheckpointError.notPending(path: path, folder: folder.id, uid: 9)) {
      try store.commitCopied(
        folder: folder.id, sourceUIDValidity: 7, copies: [(9, 1)], targetUIDValidity: 1, lastUID: 9)
    }
    // The failed transaction moved nothing.
    #expect(try store.folders().first?.sourceLastUID == 0)
  }

  @Test func dedupLookupsCountCopies() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try CheckpointStore(path: path, source: "s", target: "t")
    let run = try store.beginRun()
    let folder = try store.folder(sourceName: "INBOX", targetName: "INBOX")
    let other = try store.folder(sourceName: "Sent", targetName: "Sent")
    // Two identical copies in the source folder, both copied: the target holds two.
    let twin1 = record(1, "same content")
    var twin2 = twin1
    twin2.sourceUID = 2
    try store.recordIntent(folder: folder.id, run: run, messages: [twin1, twin2])
    try store.commitCopied(
      folder: folder.id, sourceUIDValidity: 7, copies: [(1, 1), (2, 2)], targetUIDValidity: 1, lastUID: 2)
    #expect(try store.copiesInTarget(folder: folder.id, sha256: twin1.sha256) == 2)
    #expect(try store.copiesInTarget(folder: other.id, sha256: twin1.sha256) == 0)
    #expect(try store.hasCopied(folder: folder.id, messageID: try #require(MessageID(fieldValue: "<m1@EXAMPLE.org>"))))
    #expect(try !store.hasCopied(folder: folder.id, messageID: try #require(MessageID(fieldValue: "<M1@example.org>"))))

    var third = twin1
    third.sourceUID = 3
    try store.recordDuplicates(
      folder: folder.id, run: run, messages: [(third, 17)], targetUIDValidity: 1, lastUID: 3)
    #expect(try store.counts(folder: folder.id) == (2, 1, 0, 0))
    #expect(try store.folders().first { $0.id == folder.id }?.sourceLastUID == 3)
    #expect(try store.targetUIDs(folder: folder.id, targetUIDValidity: 1) == [1, 2, 17])
    let counts = try store.hashCounts(folder: folder.id, currentValidity: 7, targetUIDValidity: 1)
    #expect(
      counts[twin1.sha256]
        == {
          var c = HashCount()
          c.all = 3
          c.current = 3
          return c
        }())
    #expect(try store.doneUIDs(folder: folder.id, sourceUIDValidity: 7, above: 1) == [2, 3])
    try store.resetProgress(folder: folder.id)
    #expect(try store.folders().first { $0.id == folder.id }?.sourceLastUID == 0)
  }

  @Test func failuresKeepTheReasonAndCountAttempts() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try CheckpointStore(path: path, source: "s", target: "t")
    let folder = try store.folder(sourceName: "INBOX", targetName: "INBOX")
    let first = try store.beginRun()
    try store.recordFailure(folder: folder.id, run: first, sourceUIDValidity: 7, sourceUID: 4, reason: "NO too big")
    let second = try store.beginRun()
    try store.recordFailure(
      folder: folder.id, run: second, sourceUIDValidity: 7, sourceUID: 4, reason: "NO [LIMIT] too big")
    #expect(
      try store.failures(folder: folder.id)
        == [FailureRecord(sourceUIDValidity: 7, sourceUID: 4, reason: "NO [LIMIT] too big", attempts: 2)])
    // Copying it later clears the failure.
    try store.recordIntent(folder: folder.id, run: second, messages: [record(4)])
    try store.commitCopied(
      folder: folder.id, sourceUIDValidity: 7, copies: [(4, 9)], targetUIDValidity: 1, lastUID: nil)
    #expect(try store.failures(folder: folder.id).isEmpty)
  }

  @Test func sourceKeysAreStableAndNewOnesGoAboveTheRest() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try CheckpointStore(path: path, source: "pop3s://a@src", target: "imaps://b@dst")
    let inbox = try store.folder(sourceName: "INBOX", targetName: "INBOX").id
    let other = try store.folder(sourceName: "Other", targetName: "Other").id
    #expect(try store.keys(folder: inbox, identities: ["uidl-b", "uidl-a"]) == [1, 2])
    // Known names keep their keys whatever the order; new ones come after every earlier key.
    #expect(try store.keys(folder: inbox, identities: ["uidl-c", "uidl-a", "uidl-b"]) == [3, 2, 1])
    #expect(try store.keys(folder: other, identities: ["uidl-a"]) == [1])
    // And they survive reopening the file.
    let reopened = try CheckpointStore(path: path, source: "pop3s://a@src", target: "imaps://b@dst")
    #expect(try reopened.keys(folder: inbox, identities: ["uidl-a", "uidl-d"]) == [2, 4])
  }

  @Test func commitsRecordWhenTheyHappened() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try CheckpointStore(path: path, source: "imaps://a@src", target: "imaps://b@dst")
    let folder = try store.folder(sourceName: "INBOX", targetName: "INBOX").id
    let run = try store.beginRun()
    let before = Int64(Date().timeIntervalSince1970)
    try store.recordIntent(folder: folder, run: run, messages: [record(1)])
    try store.commitCopied(
      folder: folder, sourceUIDValidity: 7, copies: [(1, 10)], targetUIDValidity: 3, lastUID: 1)
    try store.recordDuplicates(
      folder: folder, run: run, messages: [(record(2), nil)], targetUIDValidity: 3, lastUID: 2)
    let done = try store.doneMessages(folder: folder, sourceUIDValidity: 7)
    #expect(done.count == 2)
    #expect(done.allSatisfy { ($0.committedAt ?? 0) >= before && ($0.committedAt ?? .max) <= before + 60 })
  }
}
