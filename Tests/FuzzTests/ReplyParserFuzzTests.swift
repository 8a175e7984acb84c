import POP3Codec
import SMTPCodec
import Testing

/// POP3 and SMTP reply parsers on random and mutated input: a value or a typed error,
/// never a crash; the streaming dot-unstuffer gives the same bytes whole and in pieces.
@Suite struct ReplyParserFuzzTests {
  static let pop3Seeds = [
    "+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>", "-ERR [AUTH] invalid password", "+OK 2 320", "+ ", "+OK",
    "-ERR [SYS/TEMP] try later",
  ].map { [UInt8]($0) }
  static let bodySeeds = [
    "1 120\r\n2 200\r\n.\r\n", "From: a\r\n\r\n..dot\r\n.\r\n", "line\n.\n", "a\r\n.\r\nafter", "..\r\n.\r\n",
  ].map { [UInt8]($0) }
  static let smtpSeeds = [
    "220 mx.example.org ESMTP", "250-mx.example.org\r\n250-SIZE 1000\r\n250 8BITMIME", "550 5.1.1 no such user",
    "421-4.7.0 slow down\r\n421 4.7.0 try later", "354 go ahead",
  ].map { [UInt8]($0) }
  static let interesting = [
    "+OK", "-ERR", "\r\n", "\n", "\r", ".", "..", " ", "-", "[", "]", "999", "000", "\u{0}", "\u{FF}", "5.", "2.1.5",
  ].map { [UInt8]($0) }

  @Test func pop3RepliesNeverCrash() {
    var fuzz = Fuzzing()
    defer { fuzz.report("\(Self.self).\(#function)") }
    for _ in 0..<fuzz.iterations {
      let line = fuzz.input(seeds: Self.pop3Seeds, interesting: Self.interesting)
      let first = Result { () throws(POP3ParseError) in try POP3Reply.parse(line) }
      let again = Result { () throws(POP3ParseError) in try POP3Reply.parse(line) }
      #expect(first == again)
    }
  }

  @Test func dotUnstufferAgreesWholeAndInPieces() {
    var fuzz = Fuzzing()
    defer { fuzz.report("\(Self.self).\(#function)") }
    for iteration in 0..<fuzz.iterations {
      let input = fuzz.input(seeds: Self.bodySeeds, interesting: Self.interesting)
      let whole = Self.unstuff([input])
      let pieces = Self.unstuff(fuzz.pieces(input))
      #expect(whole == pieces, "iteration \(iteration) seed \(fuzz.seed): \(input)")
    }
  }

  /// The decoded bytes, whether the end was found, and how many input bytes it used.
  static func unstuff(_ pieces: [[UInt8]]) -> [UInt8]? {
    var decoder = DotUnstuffer()
    var output: [UInt8] = []
    for piece in pieces where !decoder.finished {
      var rest = piece[...]
      while !rest.isEmpty && !decoder.finished {
        let used = rest.withUnsafeBytes { decoder.decode($0, into: &output) }
        if used == 0 { break }
        rest = rest.dropFirst(used)
      }
    }
    return decoder.finished ? output : nil
  }

  @Test func smtpRepliesNeverCrash() {
    var fuzz = Fuzzing()
    defer { fuzz.report("\(Self.self).\(#function)") }
    for _ in 0..<fuzz.iterations {
      let input = fuzz.input(seeds: Self.smtpSeeds, interesting: Self.interesting)
      let lines = input.split(separator: 0x0A, omittingEmptySubsequences: false).map {
        Array($0.last == 0x0D ? $0.dropLast() : $0)
      }
      #expect(Self.replies(lines) == Self.replies(lines))
    }
  }

  /// Every reply the lines make, and the error that stopped them (as text).
  static func replies(_ lines: [[UInt8]]) -> [String] {
    var reader = SMTPReplyReader()
    var result: [String] = []
    for line in lines {
      do {
        if let reply = try reader.feed(line) { result.append(reply.description) }
      } catch {
        result.append("error: \(error)")
        reader = SMTPReplyReader()
      }
    }
    return result
  }
}
