import Testing

@testable import ServerFixtures

/// The throttling proxy's framing: a command's first line decides, literals follow whole,
/// whatever pieces the socket gives.
@Suite struct StreamFramerTests {
  static func pieces(_ dialect: StreamFramer.Dialect, _ text: String, pieceSize: Int) -> [StreamFramer.Piece] {
    var framer = StreamFramer(dialect)
    let bytes = Array(text.utf8)
    var pieces: [StreamFramer.Piece] = []
    var start = 0
    while start < bytes.count {
      let end = min(bytes.count, start + pieceSize)
      pieces += framer.feed(Array(bytes[start..<end]))
      start = end
    }
    // Literal bytes may come in several pieces: join neighbours for comparison.
    var joined: [StreamFramer.Piece] = []
    for piece in pieces {
      if case .literal(let more) = piece, case .literal(let before)? = joined.last {
        joined[joined.count - 1] = .literal(before + more)
      } else {
        joined.append(piece)
      }
    }
    return joined
  }

  @Test(arguments: [1, 3, 1000])
  func imapLiteralsAndTheLinesAroundThem(pieceSize: Int) {
    let wire = "a1 APPEND INBOX {5+}\r\nhello (\\Seen) {3}\r\nbye\r\na2 UID FETCH 1:* (FLAGS)\r\n"
    let pieces = Self.pieces(.imap, wire, pieceSize: pieceSize)
    #expect(
      pieces == [
        .line(Array("a1 APPEND INBOX {5+}\r\n".utf8), opensLiteral: 5, synchronising: false),
        .literal(Array("hello".utf8)),
        .line(Array(" (\\Seen) {3}\r\n".utf8), opensLiteral: 3, synchronising: true),
        .literal(Array("bye".utf8)),
        .line(Array("\r\n".utf8), opensLiteral: nil, synchronising: false),
        .line(Array("a2 UID FETCH 1:* (FLAGS)\r\n".utf8), opensLiteral: nil, synchronising: false),
      ])
    let framer = StreamFramer(.imap)
    #expect(framer.verb(of: Array("a2 UID FETCH 1:* (FLAGS)\r\n".utf8)) == ("a2", "FETCH"))
    #expect(framer.verb(of: Array("a3 select INBOX\r\n".utf8)) == ("a3", "SELECT"))
  }

  @Test func smtpBDATChunksAreLiterals() {
    // The chunk's bytes look like a command but are message data.
    let wire = "MAIL FROM:<a@x>\r\nBDAT 6 LAST\r\nMAIL\r\nRSET\r\n"
    #expect(
      Self.pieces(.smtp, wire, pieceSize: 2) == [
        .line(Array("MAIL FROM:<a@x>\r\n".utf8), opensLiteral: nil, synchronising: false),
        .line(Array("BDAT 6 LAST\r\n".utf8), opensLiteral: 6, synchronising: false),
        .literal(Array("MAIL\r\n".utf8)),
        .line(Array("RSET\r\n".utf8), opensLiteral: nil, synchronising: false),
      ])
    #expect(StreamFramer(.smtp).verb(of: Array("mail FROM:<a@x>\r\n".utf8)).verb == "MAIL")
  }
}
