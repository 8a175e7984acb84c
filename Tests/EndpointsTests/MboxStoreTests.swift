import Foundation
import MailCore
import Mailstore
import Testing

@testable import LocalEndpoint

/// `MboxSink` and `MboxSource` against real files, and Python's `mailbox` reading what the
/// sink wrote.
@Suite struct MboxStoreTests {
  /// Names as the engine hands them to a sink whose separator is "/".
  static let folders = ["INBOX", "Entwürfe", "A & B", "Projects/2024 Q1"]

  /// A message as an mbox gives it back: one without a final line end gains one.
  static func readBack(_ bytes: [UInt8]) -> [UInt8] { bytes.last == 0x0A ? bytes : bytes + [0x0A] }

  @Test func storedMessagesReadBackThroughTheSource() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("mail")
    let sink = try MboxSink(path: root)
    #expect(try sink.separator() == "/")
    #expect(try sink.folders().isEmpty)
    for folder in Self.folders {
      #expect(try sink.open(folder, forWriting: false) == nil)  // a dry run creates nothing
      let state = try #require(try sink.open(folder, forWriting: true))
      #expect(state == SinkFolderState(validity: nil, count: 0, permanentFlags: []))
      #expect(try sink.store(LocalSamples.appends) == Array(repeating: .stored(id: nil), count: 4))
      #expect(sink.recoveredTornTail == nil)
    }
    sink.close()

    // Thunderbird's layout, private modes, no bookkeeping files left behind.
    for file in ["INBOX", "Entwürfe", "A & B", "Projects.sbd/2024 Q1"] {
      #expect(try permissions(root + "/" + file) == 0o600, "\(file)")
    }
    #expect(try permissions(root) == 0o700)
    #expect(try permissions(root + "/Projects.sbd") == 0o700)
    #expect(try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix(".") }.isEmpty)
    let raw = String(decoding: try Data(contentsOf: URL(fileURLWithPath: root + "/INBOX")), as: UTF8.self)
    #expect(raw.hasPrefix("From ann@example.org Tue Nov 14 22:13:20 2023\n"))
    #expect(raw.contains("\r\n>From the start\r\n"))
    #expect(raw.contains("\n>>From quoted\n\n>From x\n"))

    let listing = try sink.folders()
    #expect(listing.map(\.name) == ["A & B", "Entwürfe", "INBOX", "Projects", "Projects/2024 Q1"])
    #expect(listing.filter { !$0.selectable }.map(\.name) == ["Projects"])

    let source = try MboxSource(path: root)
    #expect(!source.isSingleFile)
    #expect(try source.folders() == listing)
    for folder in Self.folders {
      #expect(try source.messageCount(folder) == 4)
      let state = try source.open(folder, keyMap: MemoryKeyMap())
      #expect(state.count == 4)
      #expect(state.highestModSeq == nil)
      let keys = try source.keys(after: 0)
      #expect(keys == [1, 2, 3, 4])
      let bodies = try source.fetch(keys)
      for (message, index) in zip(try source.metadata(keys), 0...) {
        let expected = Self.readBack(LocalSamples.messages[index])
        #expect(bodies[message.key] == expected, "\(folder) \(message.key)")
        #expect(message.size == UInt64(expected.count))
        #expect(message.receivedDate?.secondsSince1970 == LocalSamples.dates[index])
        #expect(message.flags.isEmpty)  // the sink does not write Status fields
      }
    }
  }

  @Test func keysAndValiditySurviveAppendsAndChangeOnRewrite() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("mail")
    let inbox = root + "/INBOX"
    let sink = try MboxSink(path: root)
    _ = try sink.open("INBOX", forWriting: true)
    _ = try sink.store(Array(LocalSamples.appends.prefix(2)))
    sink.close()

    let source = try MboxSource(path: inbox)
    #expect(source.isSingleFile)
    #expect(try source.folders() == [FolderDescriptor(name: "INBOX", separator: nil)])
    let first = try source.open("INBOX", keyMap: MemoryKeyMap())
    #expect(first.count == 2)
    #expect(try MboxSource(path: inbox).open("INBOX", keyMap: MemoryKeyMap()) == first)
    #expect(throws: LocalStoreError.notFound(path: "\(inbox) (folder Sent)")) {
      try source.open("Sent", keyMap: MemoryKeyMap())
    }

    let appender = try MboxSink(path: root)
    #expect(try appender.open("INBOX", forWriting: true)?.count == 2)
    _ = try appender.store(Array(LocalSamples.appends.suffix(2)))
    appender.close()
    let grown = try source.open("INBOX", keyMap: MemoryKeyMap())
    #expect(grown.validity == first.validity)
    #expect(grown.count == 4)
    #expect(try source.keys(after: 2) == [3, 4])
    #expect(
      try source.fetch([1, 3])
        == [1: Self.readBack(LocalSamples.messages[0]), 3: Self.readBack(LocalSamples.messages[2])])

    // Another program rewrites the file with a different first message.
    var rewritten: [UInt8] = []
    for index in [1, 0] { rewritten += Mboxrd.record(LocalSamples.messages[index], sender: "x@example.org", date: 0) }
    try Data(rewritten).write(to: URL(fileURLWithPath: inbox))
    let changed = try source.open("INBOX", keyMap: MemoryKeyMap())
    #expect(changed.validity != first.validity)
    #expect(changed.count == 2)
  }

  @Test func inventoryHashesEveryRecord() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let sink = try MboxSink(path: scratch.file("mail"))
    _ = try sink.open("Archive/2023", forWriting: true)
    _ = try sink.store(LocalSamples.appends)
    sink.close()

    let reopened = try MboxSink(path: scratch.file("mail"))
    let state = try #require(try reopened.open("Archive/2023", forWriting: true))
    #expect(state.count == 4)
    #expect(state.validity == nil)
    var found: [StoredMessage] = []
    try reopened.inventory(skipping: [1, 2, 3]) { found.append($0) }  // no ids: nothing is skipped
    #expect(found.count == 4)
    #expect(found.allSatisfy { $0.id == nil })
    #expect(found.map(\.sha256) == LocalSamples.messages.map { ContentHasher.hash($0) })
    #expect(found.map(\.messageID) == LocalSamples.messageIDs)
    #expect(reopened.readBackDepth == nil)
    #expect(try reopened.readBack([1, 2], depth: .size).isEmpty)
    #expect(try reopened.flags(of: [1, 2]).isEmpty)
    try reopened.setFlags([(id: 1, flags: ["\\Seen"])])
    #expect(try reopened.open("Archive/2023", forWriting: false)?.count == 4)
  }

  @Test func aTornAppendIsCutAtTheNextOpen() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("mail")
    let inbox = root + "/INBOX"
    let sink = try MboxSink(path: root)
    _ = try sink.open("INBOX", forWriting: true)
    _ = try sink.store(Array(LocalSamples.appends.prefix(2)))
    sink.close()
    let complete = try Data(contentsOf: URL(fileURLWithPath: inbox))

    // Killed in the middle of a batch: the note says where the batch began. The cut lands
    // after an empty line, so the file alone would look complete.
    let record = Mboxrd.record(LocalSamples.messages[1], sender: "c@example.org", date: 0)
    let marker = Array("line\n\n".utf8)
    let cut = try #require(
      (0...(record.count - marker.count)).first { Array(record[$0..<($0 + marker.count)]) == marker })
    let partial = Array(record.prefix(cut + marker.count))
    #expect(partial.suffix(2) == [0x0A, 0x0A])
    try "\(complete.count)\n".write(toFile: root + "/.INBOX.mailferry-append", atomically: false, encoding: .utf8)
    try Data(complete + partial).write(to: URL(fileURLWithPath: inbox))
    let afterKill = try MboxSink(path: root)
    #expect(try afterKill.open("INBOX", forWriting: true)?.count == 2)
    #expect(afterKill.recoveredTornTail == partial.count)
    #expect(try Data(contentsOf: URL(fileURLWithPath: inbox)) == complete)
    #expect(!FileManager.default.fileExists(atPath: root + "/.INBOX.mailferry-append"))
    afterKill.close()

    // Torn by something that left no note: the incomplete record is moved aside.
    let firstLength = Mboxrd.record(LocalSamples.messages[0], sender: "ann@example.org", date: 0).count
    try Data(complete.prefix(firstLength + 30)).write(to: URL(fileURLWithPath: inbox))
    let repaired = try MboxSink(path: root)
    #expect(try repaired.open("INBOX", forWriting: true)?.count == 1)
    #expect(repaired.recoveredTornTail == 30)
    #expect(repaired.setAside.count == 1)
    let aside = try #require(repaired.setAside.first)
    #expect(try Data(contentsOf: URL(fileURLWithPath: aside.path)) == complete.dropFirst(firstLength).prefix(30))
    #expect(try permissions(aside.path) == 0o600)
    #expect(try Data(contentsOf: URL(fileURLWithPath: inbox)) == complete.prefix(firstLength))
    _ = try repaired.store([LocalSamples.appends[2]])
    repaired.close()

    let source = try MboxSource(path: root)
    #expect(try source.folders().map(\.name) == ["INBOX"])  // the set-aside file is hidden
    _ = try source.open("INBOX", keyMap: MemoryKeyMap())
    #expect(
      try source.fetch([1, 2])
        == [1: Self.readBack(LocalSamples.messages[0]), 2: Self.readBack(LocalSamples.messages[2])])
    let python = try PythonMailbox.read(script: Self.pythonScript, path: inbox)
    #expect(python.map { Mboxrd.unquote($0.bytes) } == [0, 2].map { Self.readBack(LocalSamples.messages[$0]) })
  }

  @Test func mboxrdQuotingRoundTrips() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let tricky: [[UInt8]] = [
      Array("Subject: q\n\nFrom here\n>From there\n>>From everywhere\n\nFrom after an empty line\nFromage\n".utf8),
      Array("From: x@example.org\r\nSubject: crlf\r\n\r\n\r\nFrom \r\n>From\r\n\r\n".utf8),
      Array("Subject: last\n\n>>>From deep\n".utf8),
    ]
    let sink = try MboxSink(path: scratch.path)
    _ = try sink.open("Quoted", forWriting: true)
    _ = try sink.store(tricky.map { MessageToStore(bytes: $0, receivedDate: ReceivedDate(secondsSince1970: 86400)) })
    sink.close()
    let raw = String(decoding: try Data(contentsOf: URL(fileURLWithPath: scratch.file("Quoted"))), as: UTF8.self)
    #expect(raw.contains("\n>From here\n>>From there\n>>>From everywhere\n\n>From after an empty line\nFromage\n"))
    #expect(raw.contains("\r\n>From \r\n>From\r\n"))  // ">From" without a space is not quoted
    #expect(raw.contains("\n>>>>From deep\n"))

    let source = try MboxSource(path: scratch.file("Quoted"))
    _ = try source.open("INBOX", keyMap: MemoryKeyMap())
    #expect(try source.fetch([1, 2, 3]) == [1: tricky[0], 2: tricky[1], 3: tricky[2]])
    let python = try PythonMailbox.read(script: Self.pythonScript, path: scratch.file("Quoted"))
    #expect(python.map { Mboxrd.unquote($0.bytes) } == tricky)
    #expect(python.allSatisfy { $0.from?.hasSuffix(" Fri Jan  2 00:00:00 1970") == true })
  }

  static let pythonScript = """
    import base64, json, mailbox, sys
    box = mailbox.mbox(sys.argv[1], create=False)
    for key in box.keys():
        print(json.dumps({"data": base64.b64encode(box.get_bytes(key)).decode(),
                          "from": box.get_message(key).get_from()}))
    """

  @Test func pythonMailboxReadsWhatTheSinkWrote() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let sink = try MboxSink(path: scratch.path)
    for folder in Self.folders {
      _ = try sink.open(folder, forWriting: true)
      _ = try sink.store(LocalSamples.appends)
    }
    sink.close()
    for file in ["INBOX", "Entwürfe", "A & B", "Projects.sbd/2024 Q1"] {
      let read = try PythonMailbox.read(script: Self.pythonScript, path: scratch.file(file))
      #expect(read.count == LocalSamples.messages.count, "\(file)")
      // Python strips the separator line and the empty line that ends a record, and does
      // not unquote mboxrd.
      #expect(read.map { Mboxrd.unquote($0.bytes) } == LocalSamples.messages.map(Self.readBack))
      #expect(read.first?.from == "ann@example.org Tue Nov 14 22:13:20 2023")
      #expect(
        read.map { $0.from?.split(separator: " ").first } == [
          "ann@example.org", "c@example.org", "MAILER-DAEMON", "MAILER-DAEMON",
        ])
    }
  }

  @Test func sourceReadsThunderbirdTreesFlagsAndDates() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.path
    func write(_ name: String, _ text: String) throws {
      let path = root + "/" + name
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
    try write(
      "Inbox",
      "From MAILER-DAEMON Wed Jan  3 01:05:34 1996\nStatus: RO\nX-Status: AF\nSubject: a\n\none\n\n"
        + "From b@example.org Mon Feb 29 12:00:00 2016 +0100\nStatus: O\nX-Status: TD\nSubject: b\n\ntwo\n\n"
        + "From c@example.org sometime last week\nSubject: c\n\nthree\n")
    try write("Inbox.msf", "// <!-- <mdb:mork:z v=\"1.4\"/> -->\n")
    try write("Archives", "")
    try write("Archives.sbd/2023", "From d@example.org Sun Dec 24 18:30 2023\nSubject: d\n\nfour\n\n")
    try write(".hidden", "From e@example.org Sun Dec 24 18:30:00 2023\n\nfive\n\n")
    try write("popstate.dat", "# POP3 State File\n")
    try write("Local/Notes", "From f@example.org Sun Dec 24 18:30:00 2023\n\nsix\n\n")

    let source = try MboxSource(path: root)
    let folders = try source.folders()
    #expect(folders.map(\.name) == ["Archives", "Archives/2023", "Inbox", "Local", "Local/Notes"])
    #expect(folders.filter { !$0.selectable }.map(\.name) == ["Local"])
    #expect(folders.allSatisfy { $0.separator == "/" })
    #expect(source.skipped.map { ($0.path as NSString).lastPathComponent } == ["popstate.dat"])

    #expect(try source.open("Inbox", keyMap: MemoryKeyMap()).count == 3)
    let metadata = try source.metadata([1, 2, 3, 4])
    #expect(metadata.map(\.flags) == [["\\Seen", "\\Answered", "\\Flagged"], ["\\Draft", "\\Deleted"], []])
    #expect(metadata.map { $0.receivedDate?.secondsSince1970 } == [820_631_134, 1_456_743_600, nil])
    #expect(metadata[1].receivedDate?.zoneMinutes == 60)
    #expect(try source.flags(changedSince: 7).map(\.flags) == metadata.map(\.flags))
    #expect(try source.fetch([3]) == [3: Array("Subject: c\n\nthree\n".utf8)])

    // Deleting from an mbox is refused, and the file is left as it was.
    let before = try Data(contentsOf: URL(fileURLWithPath: root + "/Inbox"))
    let refusal = #expect(throws: LocalStoreError.removalUnsupported(path: root + "/Inbox")) {
      try source.remove([1])
    }
    #expect(refusal?.hint?.contains("--delete-source") == true)
    #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/Inbox")) == before)

    #expect(try source.open("Archives/2023", keyMap: MemoryKeyMap()).count == 1)
    #expect(try source.metadata([1]).first?.receivedDate?.secondsSince1970 == 1_703_442_600)
    #expect(try source.open("Archives", keyMap: MemoryKeyMap()).count == 0)
    #expect(try source.open("Local/Notes", keyMap: MemoryKeyMap()).count == 1)
    #expect(try source.fetch([1]) == [1: Array("\nsix\n".utf8)])

    // Compacted by another program between listing and reading.
    _ = try source.open("Inbox", keyMap: MemoryKeyMap())
    try write("Inbox", "From x@example.org Wed Jan  3 01:05:34 1996\nSubject: only\n\none\n\n")
    #expect(throws: LocalStoreError.mboxChanged(path: root + "/Inbox")) { try source.fetch([2]) }
  }

  @Test func badInputGivesTypedErrors() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let missing = scratch.file("missing")
    #expect(throws: LocalStoreError.notFound(path: missing)) { try MboxSource(path: missing) }
    let garbage = scratch.file("garbage")
    try Data("Received: by nobody\n\nFrom the middle\n".utf8).write(to: URL(fileURLWithPath: garbage))
    let notMbox = #expect(throws: LocalStoreError.notAnMbox(path: garbage)) { try MboxSource(path: garbage) }
    #expect(notMbox?.description.contains(garbage) == true)
    #expect(throws: LocalStoreError.notADirectory(path: garbage)) { try MboxSink(path: garbage) }

    let sink = try MboxSink(path: scratch.file("out"))
    #expect(throws: LocalStoreError.noFolderOpen(store: scratch.file("out"))) { try sink.store(LocalSamples.appends) }
    for name in ["a//b", ".hidden", "Trash.msf", "A/b.sbd", "/top", "x/.."] {
      let error = #expect(throws: LocalStoreError.self) { try sink.open(name, forWriting: true) }
      guard case .badFolderName(let reported, _) = error else {
        Issue.record("\(name): \(String(describing: error))")
        continue
      }
      #expect(reported == name)
    }
    // A file that is not an mbox is not appended to.
    try FileManager.default.createDirectory(atPath: scratch.file("out"), withIntermediateDirectories: true)
    try Data("not mail\n".utf8).write(to: URL(fileURLWithPath: scratch.file("out/Notes")))
    #expect(throws: LocalStoreError.notAnMbox(path: scratch.file("out/Notes"))) {
      try sink.open("Notes", forWriting: true)
    }

    // Damaged but readable: binary bytes, bare CRs, a last record cut off. Read, no crash.
    let damaged = scratch.file("damaged")
    var bytes = Array("From a Thu Jan  1 00:00:00 1970\nSubject: \u{0}\r\r\n\n".utf8) + [0xFF, 0xFE, 0x00, 0x0A, 0x0A]
    bytes += Array("From b Thu Jan  1 00:00:00 1970\nSubject: cut".utf8)
    try Data(bytes).write(to: URL(fileURLWithPath: damaged))
    let source = try MboxSource(path: damaged)
    #expect(try source.open("INBOX", keyMap: MemoryKeyMap()).count == 2)
    let messages = try source.fetch([1, 2, 3])
    #expect(messages.count == 2)
    #expect(messages[2] == Array("Subject: cut".utf8))
  }
}
