import Storage
import Testing

/// The gzip member reader on damaged and random data: the same bytes, member ends and
/// error whether the file arrives at once or a few bytes at a time; never a crash.
@Suite struct GzipFuzzTests {
  static let seeds: [[UInt8]] = {
    let text = [UInt8](String(repeating: "From a@b Tue Mar  5 13:07:09 2024\nSubject: x\n\nbody\n\n", count: 20))
    let one = (try? GzipWriter.compress(text)) ?? []
    let two = one + ((try? GzipWriter.compress(Array(text.prefix(100)))) ?? [])
    return [one, two, Array(one.prefix(one.count / 2)), (try? GzipWriter.compress([])) ?? []]
  }()
  static let interesting: [[UInt8]] = [[0x1F, 0x8B, 0x08, 0x00], [0x00], [0xFF], [0x1F, 0x8B], [0x03, 0x00]]

  @Test func readerAgreesWholeAndInPieces() {
    var fuzz = Fuzzing()
    defer { fuzz.report("\(Self.self).\(#function)") }
    for iteration in 0..<fuzz.iterations {
      let input = fuzz.input(seeds: Self.seeds, interesting: Self.interesting)
      let whole = Self.read([input])
      let pieces = Self.read(fuzz.pieces(input))
      #expect(whole == pieces, "iteration \(iteration) seed \(fuzz.seed): \(input)")
    }
  }

  /// What the reader made of `pieces`, handed over one per read: the bytes, the member
  /// ends and how it stopped.
  static func read(_ pieces: [[UInt8]]) -> String {
    var queue = pieces[...]
    var output: [UInt8] = []
    var ends: [Int] = []
    do {
      let reader = try GzipReader { buffer in
        guard let piece = queue.first else { return 0 }
        let count = min(piece.count, buffer.count)
        buffer.copyBytes(from: piece.prefix(count))
        if count == piece.count { queue.removeFirst() } else { queue[queue.startIndex] = Array(piece.dropFirst(count)) }
        return count
      }
      try reader.readAll(onData: { output.append(contentsOf: $0) }, onMemberEnd: { ends.append($0) })
      return "\(output) \(ends) ok"
    } catch {
      return "\(output.count) \(ends) \(error)"
    }
  }
}
