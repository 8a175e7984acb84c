import Foundation
import MailCore
import Mailstore
import Testing

@testable import LocalEndpoint

/// `EmlSink` against a real directory: one file per message.
@Suite struct EmlSinkTests {
  static let folders = ["INBOX", "Entwürfe", "A & B", "Projects/2024 Q1"]

  @Test func eachMessageBecomesAFileWithItsBytesAndDate() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("export")
    let sink = try EmlSink(directory: root)
    #expect(try sink.separator() == "/")
    #expect(try sink.folders().isEmpty)
    for folder in Self.folders {
      #expect(try sink.open(folder, forWriting: false) == nil)  // a dry run creates nothing
      let state = try #require(try sink.open(folder, forWriting: true))
      #expect(state.count == 0)
      #expect(state.validity != nil)
      #expect(state.permanentFlags == [])
      #expect(try sink.store(LocalSamples.appends) == (1...4).map { .stored(id: $0) })
    }
    sink.close()

    #expect(try sink.folders().map(\.name) == ["A & B", "Entwürfe", "INBOX", "Projects", "Projects/2024 Q1"])
    #expect(try permissions(root + "/Projects") == 0o700)
    for folder in ["INBOX", "Entwürfe", "A & B", "Projects/2024 Q1"] {
      let directory = root + "/" + folder
      let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }
      #expect(names.sorted() == ["000001.eml", "000002.eml", "000003.eml", "000004.eml"], "\(folder)")
      #expect(try permissions(directory) == 0o700)
      for (index, name) in names.sorted().enumerated() {
        let path = directory + "/" + name
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == LocalSamples.messages[index])
        #expect(try permissions(path) == 0o600)
        let modified = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
        #expect(modified.map { Int64($0.timeIntervalSince1970) } == LocalSamples.dates[index])
      }
    }
  }

  @Test func idsAndValidityHoldAcrossOpensAndNumbersAreNotReused() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("export")
    let first = try EmlSink(directory: root)
    let opened = try #require(try first.open("Sent", forWriting: true))
    _ = try first.store(LocalSamples.appends)
    first.close()

    let sink = try EmlSink(directory: root)
    let again = try #require(try sink.open("Sent", forWriting: true))
    #expect(again.validity == opened.validity)
    #expect(again.count == 4)
    var found: [StoredMessage] = []
    try sink.inventory(skipping: []) { found.append($0) }
    #expect(found.map(\.id) == [1, 2, 3, 4])
    #expect(found.map(\.sha256) == LocalSamples.messages.map { ContentHasher.hash($0) })
    #expect(found.map(\.messageID) == LocalSamples.messageIDs)
    found = []
    try sink.inventory(skipping: [1, 3]) { found.append($0) }
    #expect(found.map(\.id) == [2, 4])
    #expect(
      try sink.readBack([2, 4, 9], depth: .size) == [
        2: StoredCopy(size: UInt64(LocalSamples.messages[1].count)),
        4: StoredCopy(size: UInt64(LocalSamples.messages[3].count)),
      ])
    // Read back whole: the header and the hash of what was written.
    let whole = try sink.readBack([2], depth: .content)[2]
    #expect(whole?.sha256 == ContentHasher.hash(LocalSamples.messages[1]))
    #expect(whole?.header == MessageHeader.headerSection(of: LocalSamples.messages[1]))
    #expect(try sink.storedBytes(of: 2, atMost: 1 << 20) == LocalSamples.messages[1])
    #expect(try sink.flags(of: [1]).isEmpty)
    try sink.setFlags([(id: 1, flags: ["\\Seen"])])

    // The newest file is deleted by someone: its number is not given again.
    try FileManager.default.removeItem(atPath: root + "/Sent/000004.eml")
    #expect(try sink.open("Sent", forWriting: true)?.count == 3)
    #expect(try sink.store([LocalSamples.appends[0]]) == [.stored(id: 5)])
    #expect(FileManager.default.fileExists(atPath: root + "/Sent/000005.eml"))
  }

  @Test func leftoversOfAKilledRunAreHandled() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("export")
    let sink = try EmlSink(directory: root)
    _ = try sink.open("INBOX", forWriting: true)
    _ = try sink.store(Array(LocalSamples.appends.prefix(2)))
    sink.close()

    // Killed after a message was renamed but before the folder's state was written, and
    // while the next one was still a temporary file.
    try Data(LocalSamples.messages[2]).write(to: URL(fileURLWithPath: root + "/INBOX/000003.eml"))
    let temporary = root + "/INBOX/.mailferry-tmp.4.12345"
    try Data("Subject: half".utf8).write(to: URL(fileURLWithPath: temporary))

    let reopened = try EmlSink(directory: root)
    let state = try #require(try reopened.open("INBOX", forWriting: true))
    #expect(state.count == 3)
    #expect(!FileManager.default.fileExists(atPath: temporary))
    // The engine knows ids 1 and 2; the third is found by content.
    var found: [StoredMessage] = []
    try reopened.inventory(skipping: [1, 2]) { found.append($0) }
    #expect(
      found == [
        StoredMessage(
          id: 3, sha256: ContentHasher.hash(LocalSamples.messages[2]), messageID: LocalSamples.messageIDs[2])
      ])
    #expect(try reopened.store([LocalSamples.appends[3]]) == [.stored(id: 4)])
  }

  @Test func badInputGivesTypedErrors() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let plainFile = scratch.file("file")
    try Data("x".utf8).write(to: URL(fileURLWithPath: plainFile))
    let notDirectory = #expect(throws: LocalStoreError.notADirectory(path: plainFile)) {
      try EmlSink(directory: plainFile)
    }
    #expect(notDirectory?.hint != nil)

    let root = scratch.file("export")
    let sink = try EmlSink(directory: root)
    #expect(throws: LocalStoreError.noFolderOpen(store: root)) { try sink.inventory(skipping: []) { _ in } }
    for name in ["a//b", ".hidden", "x/..", ""] {
      let error = #expect(throws: LocalStoreError.self) { try sink.open(name, forWriting: true) }
      guard case .badFolderName(let reported, _) = error else {
        Issue.record("\(name): \(String(describing: error))")
        continue
      }
      #expect(reported == name)
    }
    _ = try sink.open("INBOX", forWriting: true)
    try "garbage".write(toFile: root + "/INBOX/.mailferry-validity", atomically: false, encoding: .utf8)
    let damaged = #expect(throws: LocalStoreError.self) { try sink.open("INBOX", forWriting: true) }
    guard case .damagedIndex(let path, _) = damaged else {
      Issue.record("expected damagedIndex, got \(String(describing: damaged))")
      return
    }
    #expect(path == root + "/INBOX/.mailferry-validity")
    // Files that are not the sink's own are left alone and not counted.
    try FileManager.default.removeItem(atPath: path)
    try Data("note".utf8).write(to: URL(fileURLWithPath: root + "/INBOX/readme.txt"))
    try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/INBOX/+7.eml"))
    #expect(try sink.open("INBOX", forWriting: true)?.count == 0)
    #expect(FileManager.default.fileExists(atPath: root + "/INBOX/readme.txt"))
  }
}
