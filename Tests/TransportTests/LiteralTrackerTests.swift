import Testing

@testable import ServerFixtures

/// The fault proxy's literal cut: halfway through the first literal of two bytes or more,
/// whatever pieces the socket gives.
@Suite struct LiteralTrackerTests {
  /// The offset in `text` at which the tracker cuts, fed in pieces of `pieceSize` bytes.
  static func cutOffset(_ text: String, pieceSize: Int) -> Int? {
    var tracker = LiteralTracker()
    let bytes = Array(text.utf8)
    var start = 0
    while start < bytes.count {
      let end = min(bytes.count, start + pieceSize)
      if let cut = tracker.halfwayThroughLiteral(in: Array(bytes[start..<end])) { return start + cut }
      start = end
    }
    return nil
  }

  @Test func cutsHalfwayThroughTheFirstLiteralOfTwoBytesOrMore() {
    let text = "* 1 FETCH (FLAGS () X {1}\r\nA BODY[] {10}\r\n0123456789)\r\na1 OK done\r\n"
    let literalStart = Array(text.utf8).count - Array("0123456789)\r\na1 OK done\r\n".utf8).count
    for size in [1, 2, 3, 7, 100] {
      #expect(Self.cutOffset(text, pieceSize: size) == literalStart + 5, "pieces of \(size)")
    }
    #expect(Self.cutOffset("a1 APPEND INBOX {5+}\r\nHello\r\n", pieceSize: 4) == 24)
  }

  @Test func noLiteralNoCut() {
    #expect(Self.cutOffset("* OK ready\r\na1 OK {not a literal} here\r\n", pieceSize: 3) == nil)
  }
}
