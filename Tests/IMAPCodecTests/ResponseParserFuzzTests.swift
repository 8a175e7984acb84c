import Foundation
import IMAPCodec
import Testing

/// A bounded mutation fuzzer for the response parser. Seeds are valid responses; each
/// iteration mutates one (flip, insert, delete, duplicate, splice, special characters,
/// literal sizes) and replays it whole and in random pieces. The parser must return a
/// value or a typed `IMAPParseError`: never crash or hang, and return the same values or
/// throw both ways (a parse that succeeds whole but throws in pieces fails the test).
///
/// `MAILFERRY_FUZZ_ITERATIONS` sets the count (CI runs the default); `MAILFERRY_FUZZ_SEED`
/// replays a run.
@Suite struct ResponseParserFuzzTests {
  static let seeds: [String] = [
    "* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n",
    "a1 OK [APPENDUID 38505 3955:3957] APPEND completed\r\n",
    "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n",
    "* LIST () \"/\" {5}\r\nab\"cd\r\n",
    "* STATUS INBOX (MESSAGES 2 UIDNEXT 3 SIZE 100)\r\n",
    "* 12 FETCH (UID 4827 FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 44 MODSEQ (5))\r\n",
    "* 3 FETCH (UID 77 BODY[] {12}\r\nHello\r\nWorld UID 77)\r\n",
    "* 2 FETCH (ENVELOPE (NIL {3}\r\nabc NIL ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL) BODY[HEADER.FIELDS (MESSAGE-ID)]<0> {4}\r\nX: y)\r\n",
    "* ESEARCH (TAG \"a5\") UID ALL 4:7,10 COUNT 5\r\n",
    "* NAMESPACE ((\"\" \"/\")) NIL ((\"#shared/\" \"/\"))\r\n",
    "* VANISHED (EARLIER) 300:310,405\r\n",
    "* SEARCH 2 5 (MODSEQ 917162500)\r\n",
    "+ Ready\r\n",
    "* 1 FETCH (BINARY[1] ~{3}\r\n\u{0}ab)\r\n",
    "* ID (\"name\" \"Dovecot\")\r\n",
  ]

  static let interesting: [[UInt8]] = [
    "{", "}", "{0}\r\n", "{99999999999999999999}\r\n", "~{1}\r\n", "(", ")", "[", "]", "\"", "\\", "\r\n", "\n", "\r",
    " ", "NIL", "*", "+", "BODY[]", "<0>", "\u{0}", "\u{FF}", "99999999999",
  ].map { Array($0.utf8) }

  @Test func mutatedResponsesNeverCrashOrHang() throws {
    let environment = ProcessInfo.processInfo.environment
    let iterations = environment["MAILFERRY_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 50000
    let seed = environment["MAILFERRY_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x4D61_696C_4665_7272
    var random = SplitMix64(seed: seed)
    let limits = IMAPParserLimits(
      maxLineLength: 4096, maxInMemoryLiteral: 4096, maxStreamedLiteral: 1 << 20, maxDepth: 16)
    var outcomes = (parsed: 0, rejected: 0)
    for iteration in 0..<iterations {
      var input = Array(Self.seeds[Int(random.next() % UInt64(Self.seeds.count))].utf8)
      for _ in 0...(random.next() % 4) { mutate(&input, &random) }
      let piece = 1 + Int(random.next() % 16)
      // Whole and piecewise must agree: both parse to the same values, or both reject. A
      // parser that accepts the bytes one way and throws the other disagrees with itself.
      let whole = Result { try replay(input, limits: limits) }
      let pieces = Result { try replay(input, pieceSize: piece, limits: limits) }
      switch (whole, pieces) {
      case (.success(let whole), .success(let pieces)):
        #expect(whole.parsed == pieces.parsed, "iteration \(iteration) seed \(seed): results differ by piece size")
        outcomes.parsed += 1
      case (.failure(let error), .failure):
        #expect(error is IMAPParseError, "iteration \(iteration) seed \(seed): untyped error \(error)")
        outcomes.rejected += 1
      default:
        Issue.record(
          "iteration \(iteration) seed \(seed) pieces of \(piece): whole \(whole), piecewise \(pieces) for \(input)")
      }
    }
    print(
      "fuzz ResponseParserFuzzTests: \(iterations) executions (\(outcomes.parsed) parsed, "
        + "\(outcomes.rejected) rejected), seed \(seed)")
    // Both outcomes must occur, or the mutations are not reaching the parser.
    #expect(outcomes.parsed > iterations / 50)
    #expect(outcomes.rejected > iterations / 50)
  }

  private func mutate(_ input: inout [UInt8], _ random: inout SplitMix64) {
    guard !input.isEmpty else {
      input = Self.interesting[Int(random.next() % UInt64(Self.interesting.count))]
      return
    }
    let position = Int(random.next() % UInt64(input.count))
    switch random.next() % 6 {
    case 0: input[position] ^= UInt8(1 << (random.next() % 8))
    case 1:
      input.insert(contentsOf: Self.interesting[Int(random.next() % UInt64(Self.interesting.count))], at: position)
    case 2: input.removeSubrange(position..<min(input.count, position + 1 + Int(random.next() % 8)))
    case 3:
      let end = min(input.count, position + 1 + Int(random.next() % 16))
      input.insert(contentsOf: input[position..<end], at: position)
    case 4:
      let other = Array(Self.seeds[Int(random.next() % UInt64(Self.seeds.count))].utf8)
      input = Array(input[..<position]) + other[Int(random.next() % UInt64(other.count))...]
    default: input[position] = UInt8(truncatingIfNeeded: random.next())
    }
  }
}

/// A small, fast, seedable generator, so a failing run can be replayed.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
