import POP3Codec
import Testing

@Suite struct DotUnstufferTests {
  /// Decodes `wire` fed in pieces of `chunk` bytes; returns the body and the bytes after it.
  func decode(_ wire: String, chunk: Int) -> (body: String, rest: String, finished: Bool) {
    let bytes = Array(wire.utf8)
    var decoder = DotUnstuffer()
    var output: [UInt8] = []
    var offset = 0
    while offset < bytes.count && !decoder.finished {
      let end = min(bytes.count, offset + chunk)
      let used = bytes[offset..<end].withUnsafeBytes { decoder.decode($0, into: &output) }
      offset += used
      if used < end - offset + used && !decoder.finished { break }
    }
    return (
      String(decoding: output, as: UTF8.self), String(decoding: bytes[offset...], as: UTF8.self), decoder.finished
    )
  }

  /// Every case, whole and byte by byte and in odd pieces.
  func check(_ wire: String, body: String, rest: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    for chunk in [wire.utf8.count + 1, 1, 2, 3, 7] {
      let result = decode(wire, chunk: chunk)
      #expect(result.finished, "chunk \(chunk)", sourceLocation: sourceLocation)
      #expect(result.body == body, "chunk \(chunk)", sourceLocation: sourceLocation)
      #expect(result.rest == rest, "chunk \(chunk)", sourceLocation: sourceLocation)
    }
  }

  @Test func plainBodyEndsAtTheDotLine() {
    check("Subject: x\r\n\r\nHello\r\n.\r\n+OK next", body: "Subject: x\r\n\r\nHello\r\n", rest: "+OK next")
  }

  @Test func stuffedDotsAreRemoved() {
    check("..\r\n...two\r\n..From x\r\n.\r\n", body: ".\r\n..two\r\n.From x\r\n")
  }

  @Test func dotsInsideLinesStay() {
    check("a.b\r\nend. \r\n x.\r\n.\r\n", body: "a.b\r\nend. \r\n x.\r\n")
  }

  @Test func emptyBodyAndBareLineFeeds() {
    check(".\r\n", body: "")
    check("one\nline\n.\n+OK", body: "one\nline\n", rest: "+OK")
  }

  @Test func aLoneDotThatIsNotTheTerminator() {
    // A careless server that did not stuff: ".x" is kept; ".\rx" is not the end either.
    check(".x\r\n.\ry\r\n.\r\n", body: ".x\r\n.\ry\r\n")
  }

  @Test func incompleteBodyIsNotFinished() {
    let result = decode("line\r\n.", chunk: 100)
    #expect(!result.finished)
    #expect(result.body == "line\r\n")
  }
}
