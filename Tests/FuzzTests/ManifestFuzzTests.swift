import Archive
import Testing

/// Manifest lines on random and mutated input: an entry, nil (a kind not known) or a
/// typed error, never a crash; an entry written back parses to the same entry.
@Suite struct ManifestFuzzTests {
  static let seeds: [[UInt8]] = [
    ManifestEntry.folder(name: "Projekte/Größe & Co", validity: 42, specialUse: "\\Sent").line,
    ManifestEntry.flags(uid: 7, flags: ["\\Seen", "$Label"], at: 1_700_000_000).line,
    ManifestEntry.present(account: "imaps://u@h", folder: "INBOX", validity: 5, uids: [1...40, 42...42], at: 9).line,
    "stored\tuid=1\tsha256=" + String(repeating: "ab", count: 32)
      + "\tsize=10\tflags=%5CSeen\tdate=1700000000\tzone=60\tseen=1700000000\taccount=imaps://u@h\tfolder=INBOX"
      + "\tvalidity=5\tsource_uid=7\tmember=0\toffset=0\tlength=50",
    "copy\tuid=2\tsha256=" + String(repeating: "cd", count: 32) + "\tsize=3\tseen=1",
  ].map { [UInt8]($0) }
  static let interesting = ["\t", "=", "%", "%2", "%ZZ", "%00", ":", ",", "uid=", "\u{301}", "4294967296", "-1"].map {
    [UInt8]($0)
  }

  /// Inputs the fuzzer found, kept as regression tests.
  static let found = [
    // A zone without a date was read, but not written back.
    "stored\tuid=1\tsha256=" + String(repeating: "ab", count: 32)
      + "\tsize=10\tzone=60\tseen=1\tmember=0\toffset=0\tlength=50"
  ]

  @Test(arguments: found) func foundLinesRoundTrip(_ line: String) throws {
    let entry = try #require(try ManifestEntry.parse(line))
    #expect(try ManifestEntry.parse(entry.line) == entry)
  }

  @Test func linesParseOrFailCleanlyAndRoundTrip() throws {
    var fuzz = Fuzzing()
    defer { fuzz.report("\(Self.self).\(#function)") }
    var parsed = 0
    for iteration in 0..<fuzz.iterations {
      let line = String(decoding: fuzz.input(seeds: Self.seeds, interesting: Self.interesting), as: UTF8.self)
      guard let entry = try? ManifestEntry.parse(line) else { continue }
      parsed += 1
      #expect(try ManifestEntry.parse(entry.line) == entry, "iteration \(iteration) seed \(fuzz.seed): \(line)")
    }
    #expect(parsed > 0)
  }
}
