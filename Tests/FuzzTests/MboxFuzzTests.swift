import MailCore
import Testing

/// The mbox splitter and mboxrd quoting on random and mutated input: the same records
/// whole and in pieces, and quoting that unquotes to the same bytes.
@Suite struct MboxFuzzTests {
  static let seeds = [
    "From a@b Tue Mar  5 13:07:09 2024\nSubject: x\n\nbody\n>From here\n\n",
    "From a@b Tue Mar  5 13:07:09 2024\r\n\r\n\r\nFrom b@c Wed Mar  6 13:07:09 2024\r\nX: y\r\n\r\n",
    "garbage\nFrom x\n\nFrom y\n", "From \n\n>>From \n\n", "From a\nno final line end",
  ].map { [UInt8]($0) }
  static let interesting = ["From ", ">From ", ">>From ", "\n", "\r\n", "\n\n", "\r", ">", "\u{0}"].map { [UInt8]($0) }

  @Test func splitterAgreesWholeAndInPieces() {
    var fuzz = Fuzzing()
    defer { fuzz.report("\(Self.self).\(#function)") }
    for iteration in 0..<fuzz.iterations {
      let input = fuzz.input(seeds: Self.seeds, interesting: Self.interesting)
      let whole = Self.split([input])
      let pieces = Self.split(fuzz.pieces(input))
      #expect(whole.records == pieces.records, "iteration \(iteration) seed \(fuzz.seed): \(input)")
      #expect(whole.garbage == pieces.garbage, "iteration \(iteration) seed \(fuzz.seed): \(input)")
    }
  }

  /// The streaming splitter finds the records the whole-line splitter found, whatever the
  /// pieces.
  @Test func streamingSplitterAgreesWithTheLineSplitter() {
    var fuzz = Fuzzing()
    defer { fuzz.report("\(Self.self).\(#function)") }
    for iteration in 0..<fuzz.iterations {
      let input = fuzz.input(seeds: Self.seeds, interesting: Self.interesting)
      var model = LineMboxSplitter()
      var expected: [MboxSplitter.Record] = []
      let take = { (record: LineMboxSplitter.Record) in
        expected.append(
          MboxSplitter.Record(separator: record.separator, offset: record.offset, message: record.message))
      }
      model.feed(input, emit: take)
      model.finish(emit: take)
      let streamed = Self.split(fuzz.pieces(input))
      #expect(streamed.records == expected, "iteration \(iteration) seed \(fuzz.seed): \(input)")
      #expect(streamed.garbage == model.leadingGarbage, "iteration \(iteration) seed \(fuzz.seed): \(input)")
    }
  }

  static func split(_ pieces: [[UInt8]]) -> (records: [MboxSplitter.Record], garbage: Int) {
    var splitter = MboxSplitter()
    var records: [MboxSplitter.Record] = []
    for piece in pieces { splitter.feed(piece) { records.append($0) } }
    splitter.finish { records.append($0) }
    return (records, splitter.leadingGarbage)
  }

  @Test func quotingUnquotesToTheSameBytes() {
    var fuzz = Fuzzing()
    defer { fuzz.report("\(Self.self).\(#function)") }
    for iteration in 0..<fuzz.iterations {
      let message = fuzz.input(seeds: Self.seeds, interesting: Self.interesting)
      #expect(Mboxrd.unquote(Mboxrd.quote(message)) == message, "iteration \(iteration) seed \(fuzz.seed): \(message)")
    }
  }
}
