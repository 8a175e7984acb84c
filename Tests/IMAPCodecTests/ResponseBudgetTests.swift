import IMAPCodec
import Testing

/// The per-response budget: a response's text and in-memory literals together.
@Suite struct ResponseBudgetTests {
  /// Many literals, each within the per-literal limit, together over the budget: the
  /// CAPABILITY of 300 literals of 1 MiB, scaled down.
  @Test func manySmallLiteralsTogetherExceedTheBudget() {
    let limits = IMAPParserLimits(maxResponseBytes: 10_000, maxInMemoryLiteral: 1000)
    var wire = Array("* CAPABILITY IMAP4rev1".utf8)
    for _ in 0..<30 { wire += Array(" {1000}\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 1000) }
    wire += Array("\r\n".utf8)
    for piece in [nil, 1, 333] as [Int?] {
      #expect(throws: IMAPParseError.responseTooLarge(limit: 10_000)) {
        _ = try replay(wire, pieceSize: piece, limits: limits)
      }
    }
  }

  /// Text after literals counts against the same budget.
  @Test func textAfterLiteralsCountsToo() {
    let limits = IMAPParserLimits(maxResponseBytes: 3000, maxInMemoryLiteral: 2000)
    let wire =
      Array("* LIST () \"/\" {2000}\r\n".utf8) + [UInt8](repeating: UInt8(ascii: "b"), count: 2000)
      + [UInt8](repeating: UInt8(ascii: " "), count: 5000)
    #expect(throws: IMAPParseError.responseTooLarge(limit: 3000)) {
      _ = try replay(wire, pieceSize: 512, limits: limits)
    }
  }

  /// Responses within the budget parse as before, one after another.
  @Test func responsesWithinTheBudgetParse() throws {
    let limits = IMAPParserLimits(maxResponseBytes: 100, maxInMemoryLiteral: 50)
    let wire = Array("* LIST () \"/\" {5}\r\nhello\r\n* LIST () \"/\" {5}\r\nworld\r\n".utf8)
    let result = try replay(wire, limits: limits)
    #expect(result.parsed.count == 2)
    #expect(!result.incomplete)
  }

  /// The defaults fit a SEARCH of 900,000 seven-digit UIDs from a server without ESEARCH.
  @Test func theDefaultBudgetFitsALongSearch() throws {
    var line = Array("* SEARCH".utf8)
    line.reserveCapacity(8 << 20)
    for uid in 1_000_000..<1_900_000 { line += Array(" \(uid)".utf8) }
    line += Array("\r\n".utf8)
    let result = try replay(line)
    guard case .response(.untagged(.search(let ids, _)))? = result.parsed.first else {
      Issue.record("not a SEARCH response")
      return
    }
    #expect(ids.count == 900_000)
  }

  /// A literal of 2^63 bytes is refused when announced, never allocated.
  @Test func anAbsurdLiteralSizeIsRefusedWhenAnnounced() {
    #expect(throws: IMAPParseError.literalTooLarge(size: 1 << 63, limit: 1 << 20)) {
      _ = try replay(Array("* LIST () \"/\" {9223372036854775808}\r\n".utf8))
    }
    #expect(throws: IMAPParseError.literalTooLarge(size: 1 << 63, limit: 4 << 30)) {
      _ = try replay(Array("* 1 FETCH (UID 1 BODY[] {9223372036854775808}\r\n".utf8))
    }
  }

  /// A line that never ends is refused at the budget, whatever the pieces.
  @Test func anEndlessLineIsRefusedAtTheBudget() {
    let limits = IMAPParserLimits(maxResponseBytes: 4096)
    let endless = [UInt8](repeating: UInt8(ascii: "x"), count: 20_000)
    #expect(throws: IMAPParseError.responseTooLarge(limit: 4096)) {
      _ = try replay(endless, pieceSize: 1000, limits: limits)
    }
  }
}
