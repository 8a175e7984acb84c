import Foundation
import Storage
import Testing

/// A member compressed on several threads is one ordinary gzip member: every reader sees
/// the same bytes, `gzip -t` accepts it, and its size stays close to a single stream's.
@Suite struct ParallelGzipTests {
  /// About 1.2 MB of mail-like text with some incompressible lines: ten chunks.
  static let input: [UInt8] = {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    for index in 0..<16_000 {
      bytes += Array("Received: from relay\(index % 23).example.org; line \(index)\r\n".utf8)
      if index % 50 == 0 { bytes += (0..<76).map { _ in UInt8.random(in: 0x21...0x7e, using: &generator) } + [13, 10] }
    }
    return bytes
  }()

  @Test func aMemberFromSeveralThreadsReadsBackAsItsInputAndIsOneMember() throws {
    let parallel = try ParallelGzip.compress(Self.input, level: 6, threads: 4)
    var memberEnds: [Int] = []
    var output: [UInt8] = []
    try GzipTests.read(parallel, onData: { output += $0 }, onMemberEnd: { memberEnds.append($0) })
    #expect(output == Self.input)
    #expect(memberEnds == [parallel.count], "one member, ending at the end")
    let single = try GzipWriter.compress(Self.input, level: 6)
    #expect(Array(parallel.prefix(10)) == Array(single.prefix(10)), "the same header as a single stream's")
    #expect(Array(parallel.suffix(8)) == Array(single.suffix(8)), "the same CRC and length")
    #expect(Double(parallel.count) < Double(single.count) * 1.05)
  }

  @Test func gzipAcceptsIt() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("member.gz")
    try Data(try ParallelGzip.compress(Self.input, level: 1, threads: 3)).write(to: URL(fileURLWithPath: path))
    let gzip = Process()
    gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
    gzip.arguments = ["-t", path]
    try gzip.run()
    gzip.waitUntilExit()
    #expect(gzip.terminationStatus == 0)
  }

  @Test func smallAndEmptyInputsRoundTrip() throws {
    for input in [[], Array("one line\n".utf8), Array(Self.input.prefix(ParallelGzip.chunkSize + 1))] {
      #expect(try GzipReader.decompress(try ParallelGzip.compress(input, threads: 2)) == input)
    }
  }
}
