import Foundation
import MailCore
import Mailstore
import Testing

@testable import LocalEndpoint

/// `MaildirSink` and `MaildirSource` against real directories, and Python's `mailbox`
/// reading what the sink wrote.
@Suite struct MaildirStoreTests {
  /// Names as the engine hands them to a sink whose separator is ".".
  static let folders = ["INBOX", "Entwürfe", "A & B", "Projects.2024 Q1"]

  @Test func storedMessagesReadBackThroughTheSource() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("Maildir")
    let sink = try MaildirSink(root: root)
    #expect(try sink.separator() == ".")
    #expect(try sink.personalPrefix() == "")
    for folder in Self.folders {
      #expect(try sink.open(folder, forWriting: false) == nil)  // a dry run creates nothing
      let state = try #require(try sink.open(folder, forWriting: true))
      #expect(state.count == 0)
      #expect(state.permanentFlags?.contains("\\*") == true)
      #expect(try sink.store(LocalSamples.appends) == (1...4).map { .stored(id: $0) })
    }
    sink.close()

    // Maildir++ as Dovecot lays it out, names in modified UTF-7, private modes.
    let files = FileManager.default
    for directory in ["cur", "new", "tmp", ".Entw&APw-rfe/cur", ".A &- B/new", ".Projects.2024 Q1/tmp"] {
      #expect(try permissions(root + "/" + directory) == 0o700, "\(directory)")
    }
    #expect(files.fileExists(atPath: root + "/.A &- B/maildirfolder"))
    #expect(!files.fileExists(atPath: root + "/maildirfolder"))
    let stored = try files.contentsOfDirectory(atPath: root + "/.Entw&APw-rfe/cur").sorted()
    #expect(stored.count == 4)
    for name in stored {
      #expect(try permissions(root + "/.Entw&APw-rfe/cur/" + name) == 0o600)
      #expect(name.contains(":2,"))
    }
    #expect(Set(stored.map { $0.components(separatedBy: ":2,").last! }) == ["", "RS", "FPa", "DSTb"])
    let keywords = try String(contentsOfFile: root + "/.Entw&APw-rfe/dovecot-keywords", encoding: .utf8)
    #expect(keywords == "0 Work\n1 $Label1\n")
    #expect(try files.contentsOfDirectory(atPath: root + "/tmp").isEmpty)

    let source = try MaildirSource(root: root)
    let listed = try source.folders()
    #expect(listed.map(\.name) == ["INBOX", "A & B", "Entwürfe", "Projects.2024 Q1"])
    #expect(listed.allSatisfy { $0.separator == "." && $0.specialUse == nil && $0.selectable })
    for folder in Self.folders {
      #expect(try source.messageCount(folder) == 4)
      let state = try source.open(folder, keyMap: MemoryKeyMap())
      #expect(state == SourceFolderState(validity: 1, highestModSeq: nil, count: 4))
      let keys = try source.keys(after: 0)
      #expect(keys == [1, 2, 3, 4])
      #expect(try source.keys(after: 2) == [3, 4])
      let metadata = try source.metadata(keys)
      let bodies = try source.fetch(keys)
      #expect(metadata.count == 4)
      for (message, sample) in zip(metadata, LocalSamples.appends) {
        #expect(bodies[message.key] == sample.bytes, "\(folder) \(message.key)")
        #expect(Set(message.flags) == Set(sample.flags))
        #expect(message.receivedDate?.secondsSince1970 == sample.receivedDate?.secondsSince1970)
        #expect(message.size == UInt64(sample.bytes.count))
      }
    }
    source.close()
  }

  @Test func idsValidityAndFlagsHoldAcrossOpens() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("Maildir")
    let first = try MaildirSink(root: root)
    let opened = try #require(try first.open("Work", forWriting: true))
    #expect(opened.validity != nil)
    _ = try first.store(LocalSamples.appends)
    first.close()

    let sink = try MaildirSink(root: root)
    #expect(try sink.folders().map(\.name) == ["Work"])
    let again = try #require(try sink.open("Work", forWriting: true))
    #expect(again.validity == opened.validity)
    #expect(again.count == 4)
    #expect(again.permanentFlags?.contains("Work") == true)

    var found: [StoredMessage] = []
    try sink.inventory(skipping: []) { found.append($0) }
    #expect(found.map(\.id) == [1, 2, 3, 4])
    #expect(found.map(\.sha256) == LocalSamples.messages.map { ContentHasher.hash($0) })
    #expect(found.map(\.messageID) == LocalSamples.messageIDs)
    found = []
    try sink.inventory(skipping: [1, 2, 4]) { found.append($0) }
    #expect(found.map(\.id) == [3])

    let sizes = try sink.readBack([1, 2, 3, 4, 99], depth: .size).mapValues(\.size)
    #expect(
      sizes
        == Dictionary(uniqueKeysWithValues: (1...4).map { (UInt32($0), UInt64(LocalSamples.messages[$0 - 1].count)) }))
    let hashes = try sink.readBack([1, 2, 3, 4], depth: .content).mapValues(\.sha256)
    #expect(hashes[3] == ContentHasher.hash(LocalSamples.messages[2]))
    #expect(try sink.flags(of: [2, 99]).mapValues(Set.init) == [2: ["\\Seen", "\\Answered"]])
    try sink.setFlags([(id: 2, flags: ["\\Flagged", "Work", "\\Recent"])])
    #expect(try sink.flags(of: [2]) == [2: ["\\Flagged", "Work"]])
    let names = try FileManager.default.contentsOfDirectory(atPath: root + "/.Work/cur")
    #expect(names.filter { $0.hasSuffix(":2,Fa") }.count == 1)
    #expect(try sink.store([MessageToStore(bytes: LocalSamples.messages[0])]) == [.stored(id: 5)])
    sink.close()

    // A dry-run open sees the same, and the source the new flags.
    let reader = try MaildirSink(root: root)
    let dry = try #require(try reader.open("Work", forWriting: false))
    #expect(dry.validity == opened.validity)
    #expect(dry.count == 5)
    #expect(try reader.flags(of: [2]) == [2: ["\\Flagged", "Work"]])
    let source = try MaildirSource(root: root)
    _ = try source.open("Work", keyMap: MemoryKeyMap())
    let flags = try source.flags(changedSince: nil)
    #expect(flags.count == 5)
    #expect(flags.contains(SourceFlags(key: 2, flags: ["\\Flagged", "Work"])))
  }

  @Test func leftoversOfAKilledRunAreRepairedExactlyOnce() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("Maildir")
    let sink = try MaildirSink(root: root)
    let opened = try #require(try sink.open("INBOX", forWriting: true))
    _ = try sink.store(Array(LocalSamples.appends.prefix(2)))
    sink.close()

    // The state a kill leaves: a message written to tmp/ but never renamed, one renamed into
    // cur/ whose uidlist line was never appended, and a uidlist line cut short.
    let uidList = root + "/mailferry-uidlist"
    var lines = try String(contentsOfFile: uidList, encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 3)
    let lostLine = lines.removeLast()
    try (lines.joined(separator: "\n") + "\n9 17000").write(toFile: uidList, atomically: false, encoding: .utf8)
    try Data("Subject: half\r\n".utf8).write(to: URL(fileURLWithPath: root + "/tmp/1700000000.M1P1Q1R1.host.mailferry"))
    let foreign = root + "/tmp/1700000000.M2P2.deliverer"
    try Data("Subject: being delivered\r\n".utf8).write(to: URL(fileURLWithPath: foreign))

    let reopened = try MaildirSink(root: root)
    let state = try #require(try reopened.open("INBOX", forWriting: true))
    #expect(reopened.removedTemporaryFiles == 1)
    #expect(FileManager.default.fileExists(atPath: foreign))  // another program's file, and fresh
    #expect(state.validity == opened.validity)
    #expect(state.count == 2)
    // The engine knows id 1; the message it never learnt an id for is found by content, once.
    var found: [StoredMessage] = []
    try reopened.inventory(skipping: [1]) { found.append($0) }
    #expect(found.count == 1)
    #expect(found.first?.sha256 == ContentHasher.hash(LocalSamples.messages[1]))
    let rewritten = try String(contentsOfFile: uidList, encoding: .utf8)
    #expect(rewritten.hasSuffix("\n"))
    #expect(!rewritten.contains("9 17000"))
    #expect(rewritten.split(separator: "\n").count == 3)
    #expect(rewritten.contains(String(lostLine.split(separator: " ")[1])))
    // Stored again after the repair: new ids, no duplicates of earlier ones.
    let more = try reopened.store([LocalSamples.appends[2]])
    #expect(more.count == 1)
    var all: [StoredMessage] = []
    try reopened.inventory(skipping: []) { all.append($0) }
    #expect(all.count == 3)
    #expect(Set(all.compactMap(\.id)).count == 3)
  }

  @Test func sourceFollowsRenamedFilesReadsNewAndRemoves() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("Maildir")
    let sink = try MaildirSink(root: root)
    _ = try sink.open("INBOX", forWriting: true)
    _ = try sink.store(LocalSamples.appends)
    sink.close()
    // Delivered by another program into new/, older than the rest.
    let delivered = Array("Subject: delivered\nMessage-ID: <new@example.org>\n\nhi\n".utf8)
    let deliveredPath = root + "/new/1600000000.M5P5.mda"
    try Data(delivered).write(to: URL(fileURLWithPath: deliveredPath))
    try FileManager.default.setAttributes(
      [.modificationDate: Date(timeIntervalSince1970: 1_600_000_000)], ofItemAtPath: deliveredPath)

    let source = try MaildirSource(root: root)
    let keyMap = MemoryKeyMap()
    #expect(try source.open("INBOX", keyMap: keyMap).count == 5)
    let keys = try source.keys(after: 0)
    let first = try #require(try source.metadata([1]).first)
    #expect(first.flags.isEmpty)
    #expect(first.receivedDate?.secondsSince1970 == 1_600_000_000)
    #expect(try source.fetch([1]) == [1: delivered])

    // A mail client marks message 2 (the first sample) seen and flagged behind our back.
    let cur = root + "/cur"
    let plain = try #require(try FileManager.default.contentsOfDirectory(atPath: cur).first { $0.hasSuffix(":2,") })
    try FileManager.default.moveItem(atPath: cur + "/" + plain, toPath: cur + "/" + plain + "FS")
    let bodies = try source.fetch(keys)
    #expect(bodies.count == 5)
    #expect(bodies[2] == LocalSamples.messages[0])
    #expect(try source.flags(changedSince: nil).first { $0.key == 2 }?.flags == ["\\Flagged", "\\Seen"])

    #expect(try source.remove([2, 1, 99]) == .removed)
    #expect(!FileManager.default.fileExists(atPath: deliveredPath))
    #expect(try source.fetch([1, 2, 3]).keys.sorted() == [3])
    let again = try MaildirSource(root: root)
    #expect(try again.open("INBOX", keyMap: keyMap).count == 3)
    #expect(try again.keys(after: 0) == [3, 4, 5])  // the same keys for what is left
  }

  @Test func pythonMailboxReadsWhatTheSinkWrote() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("Maildir")
    let sink = try MaildirSink(root: root)
    for folder in Self.folders {
      _ = try sink.open(folder, forWriting: true)
      _ = try sink.store(LocalSamples.appends)
    }
    sink.close()
    let script = """
      import base64, json, mailbox, sys
      root = mailbox.Maildir(sys.argv[1], factory=None, create=False)
      def dump(name, box):
          for key in box.keys():
              message = box.get_message(key)
              print(json.dumps({"folder": name, "data": base64.b64encode(box.get_bytes(key)).decode(),
                                "flags": message.get_flags(), "date": message.get_date()}))
      dump("INBOX", root)
      for name in root.list_folders():
          dump(name, root.get_folder(name))
      """
    let read = try PythonMailbox.read(script: script, path: root)
    #expect(read.count == Self.folders.count * LocalSamples.messages.count)
    for folder in Self.folders {
      let messages = read.filter { (try? ModifiedUTF7.decode($0.folder ?? "")) == folder }
      #expect(messages.count == LocalSamples.messages.count, "\(folder)")
      for (index, sample) in LocalSamples.appends.enumerated() {
        let match = messages.first { $0.bytes == sample.bytes }
        #expect(match != nil, "\(folder) message \(index)")
        #expect(match.flatMap(\.date).map { Int64($0) } == sample.receivedDate?.secondsSince1970)
        #expect(match?.flags == LocalSamples.infoLetters[index])
      }
    }
  }

  @Test func badInputGivesTypedErrors() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let missing = scratch.file("missing")
    #expect(throws: LocalStoreError.notFound(path: missing)) { try MaildirSource(root: missing) }
    let plainFile = scratch.file("file")
    try Data("x".utf8).write(to: URL(fileURLWithPath: plainFile))
    #expect(throws: LocalStoreError.notADirectory(path: plainFile)) { try MaildirSource(root: plainFile) }
    #expect(throws: LocalStoreError.notADirectory(path: plainFile)) { try MaildirSink(root: plainFile) }
    let unrelated = scratch.file("home")
    try FileManager.default.createDirectory(atPath: unrelated + "/Documents", withIntermediateDirectories: true)
    #expect(throws: LocalStoreError.notAMaildir(path: unrelated)) { try MaildirSource(root: unrelated) }
    #expect(throws: LocalStoreError.notAMaildir(path: unrelated)) { try MaildirSink(root: unrelated) }

    let root = scratch.file("Maildir")
    let sink = try MaildirSink(root: root)
    #expect(throws: LocalStoreError.noFolderOpen(store: root)) { try sink.store(LocalSamples.appends) }
    for name in ["a/b", "A..B", "Trailing.", ""] {
      let error = #expect(throws: LocalStoreError.self) { try sink.open(name, forWriting: true) }
      guard case .badFolderName(let reported, _) = error else {
        Issue.record("\(name): \(String(describing: error))")
        continue
      }
      #expect(reported == name)
      #expect(error?.hint?.contains("--folder-map") == true)
    }
    _ = try sink.open("INBOX", forWriting: true)
    try "V12 Nx\n".write(toFile: root + "/mailferry-uidlist", atomically: false, encoding: .utf8)
    let damaged = #expect(throws: LocalStoreError.self) { try sink.open("INBOX", forWriting: true) }
    guard case .damagedIndex(let path, _) = damaged else {
      Issue.record("expected damagedIndex, got \(String(describing: damaged))")
      return
    }
    #expect(path == root + "/mailferry-uidlist")
    #expect(damaged?.hint?.contains("move the file aside") == true)

    // A folder the source does not have, and a message that vanished: an error, a gap.
    let source = try MaildirSource(root: root)
    #expect(throws: LocalStoreError.notFound(path: root + "/.Nope")) {
      try source.open("Nope", keyMap: MemoryKeyMap())
    }
    #expect(throws: LocalStoreError.noFolderOpen(store: root)) { try source.keys(after: 0) }

    // errno turned into what a person can act on.
    let full = LocalStoreError.system(ENOSPC, path: "/x", operation: "write")
    #expect(full == .diskFull(path: "/x", operation: "write"))
    #expect(full.isDiskFull)
    #expect(full.hint?.contains("free some space") == true)
    #expect(
      LocalStoreError.system(EACCES, path: "/x", operation: "open") == .permissionDenied(path: "/x", operation: "open"))
    #expect(
      LocalStoreError.system(EIO, path: "/x", operation: "read").description == "/x: read failed: Input/output error")
  }
}

// MARK: - Shared by the local store tests

/// Messages with the line ends, quoting traps and bytes mail stores get wrong.
enum LocalSamples {
  static let messages: [[UInt8]] = [
    Array(
      "From: Ann <ann@example.org>\r\nTo: bob@example.org\r\nSubject: one\r\nMessage-ID: <one@example.org>\r\n\r\nHello\r\nFrom the start\r\n"
        .utf8),
    Array(
      "From: c@example.org\nSubject: LF only\nMessage-ID: <Two@EXAMPLE.org>\n\nline\n\n>From quoted\n\nFrom x\n".utf8),
    Array("Subject: no final line end\r\nMessage-ID: <three@example.org>\r\n\r\nend".utf8),
    Array("Subject: 8-bit\r\nMessage-ID: <four@example.org>\r\n\r\n".utf8) + [
      0xE4, 0xF6, 0xFC, 0x00, 0xFF, 0x0D, 0x0A,
    ],
  ]
  static let flags: [[String]] = [
    [], ["\\Seen", "\\Answered"], ["\\Flagged", "$Forwarded", "Work"], ["\\Draft", "\\Deleted", "\\Seen", "$Label1"],
  ]
  /// The Maildir info letters of `flags` (keywords get a, b in order of first use).
  static let infoLetters = ["", "RS", "FPa", "DSTb"]
  static let dates: [Int64] = [1_700_000_000, 1_700_003_601, 1_700_007_202, 1_700_010_803]
  static let messageIDs = ["one@example.org", "Two@example.org", "three@example.org", "four@example.org"].map {
    MessageID(fieldValue: $0)
  }

  static var appends: [MessageToStore] {
    (0..<messages.count).map {
      MessageToStore(
        bytes: messages[$0], flags: flags[$0], receivedDate: ReceivedDate(secondsSince1970: dates[$0], zoneMinutes: 120)
      )
    }
  }
}

/// A fresh directory under the system temp dir; `remove()` deletes it.
struct Scratch {
  let path: String

  init() throws {
    path = (NSTemporaryDirectory() as NSString).appendingPathComponent("mailferry-local-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }

  func file(_ name: String) -> String { path + "/" + name }
}

func permissions(_ path: String) throws -> Int {
  try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1
}

/// A source key map in memory: a new name gets the next key.
final class MemoryKeyMap: SourceKeyMap {
  private var known: [String: UInt32] = [:]
  private var next: UInt32 = 1

  func keys(for identities: [String]) throws -> [UInt32] {
    identities.map { identity in
      if let key = known[identity] { return key }
      known[identity] = next
      next += 1
      return next - 1
    }
  }
}

/// Runs a Python script with the standard library's `mailbox` on a path; the script prints
/// one JSON object per message.
enum PythonMailbox {
  struct Message: Decodable {
    var folder: String?
    var data: String
    var flags: String?
    var date: Double?
    var from: String?

    var bytes: [UInt8] { [UInt8](Data(base64Encoded: data) ?? Data()) }
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  static func read(script: String, path: String) throws -> [Message] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, path]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw Failure(description: "python3 exited with \(process.terminationStatus): \(errorText)")
    }
    return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
      try JSONDecoder().decode(Message.self, from: Data($0.utf8))
    }
  }
}
