import Foundation
import MailCore
import Testing

/// The spool file behind large messages and the chunked mboxrd quoting that writes them
/// into archives.
@Suite struct SpooledMessageTests {
  static let tricky: [[UInt8]] = [
    "From: a\r\n\r\nFrom the start\r\n>From one\r\n>>From two\r\nFro\r\n>Fro\r\nplain From \r\n".utf8,
    "From x\n>From y\n\nFrom".utf8,
    ">>>>>>".utf8,
    "From ".utf8,
    "".utf8,
    "no line end at all From ".utf8,
  ].map { Array($0) }

  /// Every split of each input into chunks of `size` bytes.
  static func chunked(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
    stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
  }

  @Test func quotingInChunksMatchesQuotingWhole() {
    for message in Self.tricky {
      for size in 1...max(message.count, 1) {
        var quoter = MboxrdQuoter()
        var quoted: [UInt8] = []
        for chunk in Self.chunked(message, size: size) { chunk.withUnsafeBytes { quoter.quote($0, into: &quoted) } }
        quoter.finish(into: &quoted)
        #expect(quoted == Mboxrd.quote(message), "chunks of \(size): \(String(decoding: message, as: UTF8.self))")

        var unquoter = MboxrdQuoter(unquoting: true)
        var unquoted: [UInt8] = []
        for chunk in Self.chunked(quoted, size: size) { chunk.withUnsafeBytes { unquoter.quote($0, into: &unquoted) } }
        unquoter.finish(into: &unquoted)
        #expect(unquoted == message, "round trip in chunks of \(size)")
        #expect(unquoted == Mboxrd.unquote(quoted))
      }
    }
  }

  @Test func aSpooledMessageKnowsItsHashSizeAndHeaderAndLeavesNoFile() throws {
    let directory = NSTemporaryDirectory() + "mailferry-spool-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let message = Array("Subject: s\nMessage-ID: <a@b>\n\nbody line\nlast line without end".utf8)
    let spooler = try MessageSpooler(directory: directory)
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "unlinked at once")
    for chunk in Self.chunked(message, size: 7) { try spooler.write(chunk) }
    let body = MessageBody.spooled(spooler.finish())
    #expect(body.count == message.count)
    #expect(body.contentHash == ContentHasher.hash(message))
    #expect(body.normalizedCount == MessageBytes.normalizedSize(message))
    #expect(MessageID(message: body.headerBytes) == MessageID(message: message))
    #expect(try body.wholeBytes() == message)
    #expect(try body.normalizingLineEndings().wholeBytes() == MessageBytes.normalized(message))
    var chunks = 0
    try body.forEachChunk { _ in chunks += 1 }
    #expect(chunks == 1)
  }

  @Test func aSpoolInAMissingDirectoryIsAClearError() {
    #expect(throws: SpoolError.self) { try MessageSpooler(directory: "/nonexistent-mailferry-spool") }
    let error = SpoolError(directory: "/x", operation: "write", errno: ENOSPC)
    #expect(error.description.contains("/x") && error.description.contains("write failed"))
    #expect(error.kind == .localIO)
    #expect(error.scope == .job)
  }
}
