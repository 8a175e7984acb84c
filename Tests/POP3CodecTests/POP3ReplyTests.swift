import POP3Codec
import Testing

@Suite struct POP3ReplyTests {
  func status(_ line: String) throws -> POP3Status {
    guard case .status(let status) = try POP3Reply.parse(Array(line.utf8)) else {
      Issue.record("not a status: \(line)")
      return POP3Status(ok: false, text: "")
    }
    return status
  }

  @Test func statusLinesWithAndWithoutCodes() throws {
    #expect(try status("+OK Dovecot ready.") == POP3Status(ok: true, text: "Dovecot ready."))
    #expect(try status("+OK") == POP3Status(ok: true, text: ""))
    #expect(
      try status("-ERR [AUTH] Authentication failed.")
        == POP3Status(ok: false, code: "AUTH", text: "Authentication failed."))
    let busy = try status("-ERR [IN-USE] Mailbox is locked by another POP3 session")
    #expect(busy.isTemporary)
    #expect(try status("-ERR [SYS/TEMP] try later").isTemporary)
    #expect(try !status("-ERR [SYS/PERM] no").isTemporary)
    #expect(try status("-err lower case").ok == false)
  }

  @Test func apopTimestampFromTheGreeting() throws {
    let greeting = try status("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>")
    #expect(greeting.apopTimestamp == "<1896.697170952@dbc.mtview.ca.us>")
    #expect(try status("+OK Dovecot ready.").apopTimestamp == nil)
    #expect(try status("+OK ready <no-at-sign>").apopTimestamp == nil)
  }

  @Test func continuationsDuringAuth() throws {
    #expect(try POP3Reply.parse(Array("+ ".utf8)) == .continuation(""))
    #expect(try POP3Reply.parse(Array("+ eyJzdGF0dXMiOiI0MDEifQ==".utf8)) == .continuation("eyJzdGF0dXMiOiI0MDEifQ=="))
    #expect(try POP3Reply.parse(Array("+".utf8)) == .continuation(""))
  }

  @Test func garbageIsATypedError() {
    for line in ["", "OK", "+OKAY", "* 1 EXISTS", "-ERROR x", "\u{0}\u{1}"] {
      #expect(throws: POP3ParseError.self, "\(line)") { try POP3Reply.parse(Array(line.utf8)) }
    }
  }

  @Test func statListUidlAndCapa() throws {
    #expect(try POP3Listings.stat("2 320") == (2, 320))
    #expect(try POP3Listings.stat("0 0 extra words") == (0, 0))
    #expect(throws: POP3ParseError.self) { try POP3Listings.stat("two 320") }
    #expect(try POP3Listings.scanListing(Array("1 120".utf8)) == (1, 120))
    #expect(throws: POP3ParseError.self) { try POP3Listings.scanListing(Array("0 120".utf8)) }
    #expect(throws: POP3ParseError.self) { try POP3Listings.scanListing(Array("1".utf8)) }
    let uid = try POP3Listings.uniqueIDListing(Array("3 QhdPYR:00WBw1Ph7x7".utf8))
    #expect(uid.number == 3 && uid.uid == "QhdPYR:00WBw1Ph7x7")
    #expect(throws: POP3ParseError.self) { try POP3Listings.uniqueIDListing(Array("3".utf8)) }
    let capa = POP3Listings.capabilities(
      ["CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN LOGIN XOAUTH2", "STLS"]
        .map { Array($0.utf8) })
    #expect(capa["SASL"] == ["PLAIN", "LOGIN", "XOAUTH2"])
    #expect(capa["PIPELINING"] == [])
    #expect(capa["STLS"] != nil)
  }
}
