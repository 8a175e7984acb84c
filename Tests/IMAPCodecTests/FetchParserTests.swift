import IMAPCodec
import MailCore
import Testing

@Suite struct FetchParserTests {
  @Test func metadataFetch() throws {
    let header = "Message-ID: <abc@example.org>\r\n\r\n"
    let parsed = try parseEveryWay(
      "* 12 FETCH (UID 4827 FLAGS (\\Seen $Label1) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 "
        + "MODSEQ (12121231000) BODY[HEADER.FIELDS (MESSAGE-ID)] {\(header.utf8.count)}\r\n\(header))\r\n")
    // The header-fields section is a body section: it is streamed like any other.
    guard case .body(let start, let bytes) = parsed[0], case .response(.untagged(.fetch(let fetch))) = parsed[1] else {
      Issue.record("unexpected events: \(parsed)")
      return
    }
    #expect(start.section == "HEADER.FIELDS (MESSAGE-ID)")
    #expect(bytes == Array(header.utf8))
    #expect(fetch.sequenceNumber == 12)
    #expect(fetch.uid == 4827)
    #expect(fetch.flags == ["\\Seen", "$Label1"])
    #expect(fetch.internalDate == ReceivedDate(internalDate: "17-Jul-1996 02:44:25 -0700"))
    #expect(fetch.internalDate?.internalDateText == "17-Jul-1996 02:44:25 -0700")
    #expect(fetch.size == 4286)
    #expect(fetch.modSeq == 12_121_231_000)
  }

  @Test func bodyIsStreamedWithTheAttributesBeforeIt() throws {
    let body = "From: a@example.org\r\nSubject: hi\r\n\r\nHello\r\n"
    let wire =
      "* 3 FETCH (UID 77 FLAGS (\\Seen) BODY[] {\(body.utf8.count)}\r\n\(body) INTERNALDATE \"01-Jan-2024 00:00:00 +0000\")\r\n"
    let parsed = try parseEveryWay(wire)
    #expect(parsed.count == 2)
    guard case .body(let start, let bytes) = parsed[0], case .response(.untagged(.fetch(let fetch))) = parsed[1] else {
      Issue.record("unexpected events: \(parsed)")
      return
    }
    #expect(start.sequenceNumber == 3)
    #expect(start.uid == 77)
    #expect(start.section == "")
    #expect(start.size == UInt64(body.utf8.count))
    #expect(bytes == Array(body.utf8))
    #expect(fetch.uid == 77)
    #expect(fetch.internalDate?.secondsSince1970 == 1_704_067_200)
    #expect(fetch.attributes.contains(.streamedBody(section: "", origin: nil, size: UInt64(body.utf8.count))))
  }

  @Test func uidAfterTheBodyStillArrives() throws {
    // Some servers put UID last; the final FETCH carries it.
    let parsed = try parseEveryWay("* 1 FETCH (BODY[] {5}\r\nHello UID 9)\r\n")
    guard case .body(let start, let bytes) = parsed[0], case .response(.untagged(.fetch(let fetch))) = parsed[1] else {
      Issue.record("unexpected events: \(parsed)")
      return
    }
    #expect(start.uid == nil)
    #expect(bytes == Array("Hello".utf8))
    #expect(fetch.uid == 9)
  }

  @Test func literalsInsideEnvelopeStayInMemory() throws {
    let parsed = try parseEveryWay(
      "* 2 FETCH (UID 5 ENVELOPE (NIL {7}\r\nSubject NIL NIL NIL NIL NIL NIL NIL NIL) BODY[TEXT]<0> {4}\r\nabcd)\r\n")
    #expect(parsed.count == 2)
    guard case .body(let start, let bytes) = parsed[0] else {
      Issue.record("no streamed body: \(parsed)")
      return
    }
    #expect(start.section == "TEXT")
    #expect(start.origin == 0)
    #expect(bytes == Array("abcd".utf8))
    #expect(start.attributesBefore.count == 2)
  }

  @Test func emptyAndNilBodies() throws {
    let parsed = try parseEveryWay("* 1 FETCH (UID 1 BODY[] {0}\r\n)\r\n* 2 FETCH (UID 2 BODY[] NIL)\r\n")
    #expect(parsed.count == 3)
    guard case .body(let start, let bytes) = parsed[0] else {
      Issue.record("\(parsed)")
      return
    }
    #expect(start.size == 0 && bytes.isEmpty)
    guard case .response(.untagged(.fetch(let nilFetch))) = parsed[2] else {
      Issue.record("\(parsed)")
      return
    }
    #expect(nilFetch.attributes.contains(.body(section: "", origin: nil, data: nil)))
  }

  @Test func binaryLiteral8AndQuotedBody() throws {
    let parsed = try parseEveryWay(
      "* 4 FETCH (UID 8 BINARY[1] ~{3}\r\n\u{0}ab)\r\n* 5 FETCH (UID 9 BODY[HEADER] \"X: y\")\r\n")
    guard case .body(let start, let bytes) = parsed[0], case .response(.untagged(.fetch(let quoted))) = parsed[2] else {
      Issue.record("\(parsed)")
      return
    }
    #expect(start.binary)
    #expect(bytes == [0, 0x61, 0x62])
    #expect(quoted.body(section: "HEADER") == Array("X: y".utf8))
  }

  @Test func largeBodyStreamsInBoundedChunks() throws {
    let line = Array("a line of a large message body, about eighty bytes long, repeated and repeated\r\n".utf8)
    var body: [UInt8] = []
    while body.count < 3_000_000 { body += line }
    let wire = Array("* 1 FETCH (UID 1 BODY[] {\(body.count)}\r\n".utf8) + body + Array(")\r\na OK done\r\n".utf8)
    let result = try replay(wire, pieceSize: 65536)
    guard case .body(_, let received) = result.parsed[0] else {
      Issue.record("no body")
      return
    }
    #expect(received == body)
    #expect(result.largestChunk <= 65536)
    #expect(result.parsed.count == 3)
  }

  @Test func rfc822Items() throws {
    let parsed = try parseEveryWay("* 6 FETCH (RFC822.HEADER {4}\r\nX: y UID 3)\r\n")
    guard case .body(let start, _) = parsed[0] else {
      Issue.record("\(parsed)")
      return
    }
    #expect(start.section == "HEADER")
  }
}
