import POP3Codec
import Testing

@Suite struct ListingLineSplitterTests {
  /// Feeds `wire` in pieces of `chunk` bytes; returns the lines and the bytes after the listing.
  func split(
    _ wire: [UInt8], chunk: Int, limits: POP3ResponseLimits = POP3ResponseLimits()
  ) throws -> (lines: [String], rest: [UInt8], finished: Bool) {
    var splitter = ListingLineSplitter(limits: limits)
    var lines: [[UInt8]] = []
    var offset = 0
    while offset < wire.count && !splitter.finished {
      let end = min(wire.count, offset + chunk)
      let piece = Array(wire[offset..<end])
      offset += try piece.withUnsafeBytes { try splitter.feed($0, into: &lines) }
    }
    return (lines.map { String(decoding: $0, as: UTF8.self) }, Array(wire[offset...]), splitter.finished)
  }

  @Test func linesArriveWithoutTheirEndingsWhateverThePieces() throws {
    let wire = Array("1 120\r\n2 4000\n\r\n..odd\r\n.\r\n+OK next\r\n".utf8)
    for chunk in [1, 2, 3, 7, wire.count] {
      let result = try split(wire, chunk: chunk)
      #expect(result.finished)
      #expect(result.lines == ["1 120", "2 4000", ".odd"], "chunk \(chunk)")
      #expect(result.rest == Array("+OK next\r\n".utf8), "chunk \(chunk)")
    }
  }

  /// An endless listing (a LIST of ever more lines) ends in an error at the line limit.
  @Test func anEndlessListingStopsAtTheLineLimit() {
    var wire: [UInt8] = []
    for number in 1...2000 { wire += Array("\(number) 100\r\n".utf8) }
    #expect(throws: POP3ParseError.listingTooLarge(limit: "1000 lines")) {
      _ = try split(wire, chunk: 512, limits: POP3ResponseLimits(maxListingLines: 1000))
    }
  }

  /// A line that never ends (no LF at all) is refused at the line length, not buffered.
  @Test func anEndlessLineStopsAtTheLengthLimit() {
    let wire = [UInt8](repeating: UInt8(ascii: "7"), count: 100_000)
    #expect(throws: POP3ParseError.listingTooLarge(limit: "lines of 1024 bytes")) {
      _ = try split(wire, chunk: 4096)
    }
  }
}
