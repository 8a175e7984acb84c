import Foundation
import MailCore
import Testing

/// The pieces that let a large message pass through mbox files, local stores and `verify`
/// without being held whole: the chunked mboxrd record writer, the streaming mbox
/// splitter, the body builder that spools by the bytes received, and the chunked search
/// for the first differing byte.
@Suite struct ChunkedMessageTests {
  static let date: Int64 = 1_700_000_000

  @Test func aRecordWrittenInChunksIsTheRecordWrittenWhole() {
    for message in SpooledMessageTests.tricky {
      let whole = Mboxrd.record(message, sender: "a@b", date: Self.date)
      for size in 1...max(message.count, 1) {
        var out = Mboxrd.separatorLine(sender: "a@b", date: Self.date)
        var writer = MboxrdRecordWriter()
        for chunk in SpooledMessageTests.chunked(message, size: size) {
          chunk.withUnsafeBytes { writer.add($0, into: &out) }
        }
        writer.finish(into: &out)
        #expect(out == whole, "chunks of \(size): \(String(decoding: message, as: UTF8.self))")
      }
    }
  }

  /// Records written chunk by chunk and split again in pieces of every size give back each
  /// message exactly (one without a final line end gains one, as in any mbox).
  @Test func recordsRoundTripThroughTheStreamingSplitter() {
    let messages = SpooledMessageTests.tricky
    var stream: [UInt8] = []
    for message in messages {
      stream += Mboxrd.separatorLine(sender: "a@b", date: Self.date)
      var writer = MboxrdRecordWriter()
      for chunk in SpooledMessageTests.chunked(message, size: 3) {
        chunk.withUnsafeBytes { writer.add($0, into: &stream) }
      }
      writer.finish(into: &stream)
    }
    let expected = messages.map { $0.last == 0x0A ? $0 : $0 + [0x0A] }
    for size in [1, 2, 5, 7, 64, stream.count] {
      var splitter = MboxStreamSplitter()
      var found: [[UInt8]] = []
      var starts = 0
      let take = { (event: MboxStreamSplitter.Event) in
        switch event {
        case .start:
          starts += 1
          found.append([])
        case .body(let bytes): found[found.count - 1].append(contentsOf: bytes)
        case .end: break
        }
      }
      for piece in SpooledMessageTests.chunked(stream, size: size) {
        piece.withUnsafeBytes { splitter.feed($0, emit: take) }
      }
      splitter.finish(emit: take)
      #expect(starts == messages.count, "pieces of \(size)")
      #expect(found == expected, "pieces of \(size)")
    }
  }

  @Test func aBuilderSpoolsOnceTheBytesReceivedPassTheThreshold() throws {
    let directory = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let message = Array("Subject: grows\r\n\r\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: 100) + [0x0A]

    let small = try MessageBodyBuilder(threshold: message.count, directory: directory)
    for chunk in SpooledMessageTests.chunked(message, size: 9) { try small.append(chunk) }
    #expect(small.finish() == .inMemory(message))

    // Announced as empty (a POP3 LIST of 0): spooled by what arrives.
    let grown = try MessageBodyBuilder(threshold: 50, directory: directory, expected: 0)
    for chunk in SpooledMessageTests.chunked(message, size: 9) { try grown.append(chunk) }
    #expect(grown.isSpooling)
    let body = grown.finish()
    #expect(body.isSpooled)
    #expect(try body.wholeBytes() == message)
    #expect(body.contentHash == ContentHasher.hash(message))

    let announced = try MessageBodyBuilder(threshold: 50, directory: directory, expected: 51)
    #expect(announced.isSpooling)
    try announced.append(Array(message.prefix(10)))
    #expect(try announced.finish().wholeBytes() == Array(message.prefix(10)))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
  }

  /// The chunked search finds what the whole-message search finds, in memory or spooled,
  /// with differences and bare line feeds on both sides of its 256 KiB chunks.
  @Test func theFirstDifferenceIsFoundAChunkAtATime() throws {
    let directory = try Self.scratch()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let base = (0..<30000).flatMap { Array("line \($0) of a message\($0 % 3 == 0 ? "\n" : "\r\n")".utf8) }
    var variants: [[UInt8]] = [base, base + [0x41], Array(base.dropLast(1)), Array(base.prefix(262_144))]
    for offset in [0, 262_143, 262_144, 262_145, base.count - 1] {
      var changed = base
      changed[offset] = changed[offset] == 0x58 ? 0x59 : 0x58
      variants.append(changed)
    }
    variants.append(MessageBytes.normalized(base))
    for sent in variants.prefix(3) {
      for stored in variants {
        let expected = MessageBytes.firstDifference(MessageBytes.normalized(sent), MessageBytes.normalized(stored))
        for (left, right) in [
          (MessageBody.inMemory(sent), MessageBody.inMemory(stored)),
          (try Self.spooled(sent, in: directory), try Self.spooled(stored, in: directory)),
        ] {
          #expect(try left.firstDifference(from: right) == expected)
        }
      }
    }
  }

  static func spooled(_ bytes: [UInt8], in directory: String) throws -> MessageBody {
    let spooler = try MessageSpooler(directory: directory)
    for chunk in SpooledMessageTests.chunked(bytes, size: 100_000) { try spooler.write(chunk) }
    return .spooled(spooler.finish())
  }

  static func scratch() throws -> String {
    let directory = NSTemporaryDirectory() + "mailferry-chunked-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory
  }
}
