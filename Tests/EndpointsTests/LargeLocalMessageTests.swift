import Foundation
import MailCore
import Mailstore
import Testing

@testable import LocalEndpoint

/// Messages above the spool threshold through Maildir, mbox and .eml: sinks write a spooled
/// body chunk by chunk, sources read a large file into a spool file, all byte for byte.
@Suite struct LargeLocalMessageTests {
  static let date = ReceivedDate(secondsSince1970: 1_700_000_000)

  /// About 4.5 MiB with mixed line endings, and at each 1 MiB boundary (where a spooled
  /// body is cut into chunks) a line an mbox must quote, split there at another place:
  /// `Fr|om `, `>|From `, `\r|\nFrom `, `From |`, and an empty line before a `From ` line.
  static let message: [UInt8] = {
    var bytes = Array(
      "Return-Path: <big@example.org>\nFrom: Big <big@example.org>\nMessage-ID: <big@example.org>\nStatus: RO\n\n"
        .utf8)
    let specials: [(line: [UInt8], before: Int)] = [
      (Array("From the first boundary\n".utf8), 2), (Array(">From the second\n".utf8), 1),
      (Array("\r\nFrom the third, after an empty line\r\n".utf8), 1), (Array("From the fourth\n".utf8), 5),
    ]
    var number = 0
    for (special, before) in specials {
      let boundary = (bytes.count / MessageBody.chunkSize + 1) * MessageBody.chunkSize
      while bytes.count < boundary - 200 {
        bytes += Array("line \(number) of a large message\(number % 2 == 0 ? "\n" : "\r\n")".utf8)
        number += 1
      }
      let padding = boundary - before - bytes.count - 1
      bytes += Array(repeating: UInt8(ascii: "x"), count: padding) + [0x0A]
      bytes += special
    }
    bytes += Array(repeating: UInt8(ascii: "y"), count: 500_000) + Array("\nFrom the end\n".utf8)
    return bytes
  }()

  static func spooledMessage(in directory: String) throws -> MessageToStore {
    let spooler = try MessageSpooler(directory: directory)
    try spooler.write(message)
    return MessageToStore(body: .spooled(spooler.finish()), flags: ["\\Seen"], receivedDate: date)
  }

  static func policy(_ scratch: Scratch) throws -> SpoolPolicy {
    let directory = scratch.file("spool")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return SpoolPolicy(threshold: 1 << 20, directory: directory)
  }

  @Test func anMboxTakesAndGivesALargeMessageByteForByte() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let policy = try Self.policy(scratch)
    let sink = try MboxSink(path: scratch.file("mbox"))
    _ = try sink.open("INBOX", forWriting: true)
    let small = MessageToStore(bytes: Array("Subject: small\n\nFrom here\n".utf8), receivedDate: Self.date)
    #expect(try sink.store([small, try Self.spooledMessage(in: policy.directory), small]).count == 3)
    var inventory: [SHA256Digest] = []
    try sink.inventory(skipping: []) { inventory.append($0.sha256) }
    #expect(
      inventory == [ContentHasher.hash(small.bytes), ContentHasher.hash(Self.message), ContentHasher.hash(small.bytes)])
    sink.close()

    let written = try Array(Data(contentsOf: URL(fileURLWithPath: scratch.file("mbox/INBOX"))))
    let record = { (bytes: [UInt8]) in
      Mboxrd.record(bytes, sender: Mboxrd.sender(of: bytes), date: Self.date.secondsSince1970)
    }
    #expect(written == record(small.bytes) + record(Self.message) + record(small.bytes))

    let source = try MboxSource(path: scratch.file("mbox"))
    _ = try source.open("INBOX", keyMap: MemoryKeyMap())
    #expect(try source.metadata([2]).first?.size == UInt64(Self.message.count))
    let (bodies, unreadable) = try source.fetchBodies([1, 2, 3], within: .none, spooling: policy)
    #expect(unreadable.isEmpty)
    #expect(bodies[2]?.isSpooled == true)
    #expect(try bodies[2]?.wholeBytes() == Self.message)
    #expect(bodies[1] == .inMemory(small.bytes))
    #expect(try source.fetch([2])[2] == Self.message)
    #expect(try FileManager.default.contentsOfDirectory(atPath: policy.directory).isEmpty)
  }

  @Test func aMaildirTakesGivesAndReadsBackALargeMessageByteForByte() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let policy = try Self.policy(scratch)
    let sink = try MaildirSink(root: scratch.file("maildir"))
    _ = try sink.open("INBOX", forWriting: true)
    let outcomes = try sink.store([try Self.spooledMessage(in: policy.directory)])
    guard case .stored(let id?) = outcomes.first else {
      Issue.record("not stored: \(outcomes)")
      return
    }
    let copy = try #require(try sink.readBack([id], depth: .content)[id])
    #expect(copy == StoredCopy(bytes: Self.message, depth: .content))
    #expect(try sink.readBack([id], depth: .header)[id] == StoredCopy(bytes: Self.message, depth: .header))
    let stored = try #require(try sink.storedBody(of: id, atMost: .max, spooling: policy))
    #expect(stored.isSpooled)
    #expect(try stored.wholeBytes() == Self.message)
    sink.close()

    let source = try MaildirSource(root: scratch.file("maildir"))
    _ = try source.open("INBOX", keyMap: MemoryKeyMap())
    let keys = try source.keys(after: 0)
    let (bodies, _) = try source.fetchBodies(keys, within: .none, spooling: policy)
    #expect(bodies.count == 1)
    #expect(bodies.values.first?.isSpooled == true)
    #expect(try bodies.values.first?.wholeBytes() == Self.message)
    let limited = try source.fetchBodies(
      keys, within: MessageSizeLimits(listedSizes: [:], maxSize: 1 << 20), spooling: policy)
    #expect(limited.bodies.isEmpty)
    #expect(limited.unreadable.count == 1)
  }

  @Test func anEmlDirectoryTakesALargeMessageByteForByte() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let policy = try Self.policy(scratch)
    let sink = try EmlSink(directory: scratch.file("eml"))
    _ = try sink.open("INBOX", forWriting: true)
    let outcomes = try sink.store([try Self.spooledMessage(in: policy.directory)])
    guard case .stored(let id?) = outcomes.first else {
      Issue.record("not stored: \(outcomes)")
      return
    }
    #expect(try sink.storedBytes(of: id, atMost: .max) == Self.message)
    #expect(try sink.readBack([id], depth: .content)[id] == StoredCopy(bytes: Self.message, depth: .content))
  }
}
