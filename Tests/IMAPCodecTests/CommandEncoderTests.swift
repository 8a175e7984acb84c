import Foundation
import IMAPCodec
import MailCore
import Testing

@Suite struct CommandEncoderTests {
  let plain = CommandEncoder(capabilities: [])
  let literalPlus = CommandEncoder(capabilities: ["LITERAL+"])

  func text(_ command: Command, _ encoder: CommandEncoder? = nil) -> String {
    String(decoding: (encoder ?? plain).encode(command, tag: "a1").wireBytes, as: UTF8.self)
  }

  @Test func simpleCommands() {
    #expect(text(.capability) == "a1 CAPABILITY\r\n")
    #expect(text(.compressDeflate) == "a1 COMPRESS DEFLATE\r\n")
    #expect(text(.enable(["CONDSTORE", "QRESYNC"])) == "a1 ENABLE CONDSTORE QRESYNC\r\n")
    #expect(text(.select(MailboxName("INBOX"), readOnly: true, condstore: true)) == "a1 EXAMINE INBOX (CONDSTORE)\r\n")
    #expect(
      text(.uidFetch(.uids(UIDSet([1, 2, 3, 7])), items: ["UID", "FLAGS"], changedSince: 42))
        == "a1 UID FETCH 1:3,7 (UID FLAGS) (CHANGEDSINCE 42)\r\n")
    #expect(
      text(.uidFetch(.from(5), items: ["BODY.PEEK[]"], changedSince: nil)) == "a1 UID FETCH 5:* (BODY.PEEK[])\r\n")
    #expect(
      text(.uidStore(UIDSet([4]), .add, flags: ["\\Seen", "$Junk"], silent: true))
        == "a1 UID STORE 4 +FLAGS.SILENT (\\Seen $Junk)\r\n")
    #expect(
      text(.list(reference: MailboxName(""), pattern: MailboxName("*"), returnOptions: ["SPECIAL-USE"]))
        == "a1 LIST \"\" * RETURN (SPECIAL-USE)\r\n")
  }

  @Test func quotingFollowsTheBytes() {
    #expect(text(.create(MailboxName("Archive/2024"))) == "a1 CREATE Archive/2024\r\n")
    #expect(text(.create(MailboxName("Sent Items"))) == "a1 CREATE \"Sent Items\"\r\n")
    #expect(
      text(.create(MailboxName("Sent Items"), specialUse: "\\Sent")) == "a1 CREATE \"Sent Items\" (USE (\\Sent))\r\n")
    #expect(text(.create(MailboxName("a\"b\\c"))) == "a1 CREATE \"a\\\"b\\\\c\"\r\n")
    #expect(text(.create(MailboxName(""))) == "a1 CREATE \"\"\r\n")
    #expect(text(.create(MailboxName("NIL"))) == "a1 CREATE \"NIL\"\r\n")
    #expect(text(.create(MailboxName("100%"))) == "a1 CREATE \"100%\"\r\n")
  }

  @Test func eightBitAndLineBreaksNeedALiteral() {
    let encoded = plain.encode(.create(MailboxName("Entwürfe")), tag: "a1")
    #expect(encoded.synchronisingLiterals == 1)
    #expect(String(decoding: encoded.wireBytes, as: UTF8.self) == "a1 CREATE {9}\r\nEntwürfe\r\n")
    let utf8 = CommandEncoder(capabilities: [], utf8Accepted: true)
    #expect(text(.create(MailboxName("Entwürfe")), utf8) == "a1 CREATE \"Entwürfe\"\r\n")
    #expect(literalPlus.encode(.create(MailboxName("a\r\nb")), tag: "a1").synchronisingLiterals == 0)
    #expect(text(.create(MailboxName("a\r\nb")), literalPlus) == "a1 CREATE {4+}\r\na\r\nb\r\n")
  }

  @Test func literalMinusOnlyForSmallLiterals() {
    let minus = CommandEncoder(capabilities: ["LITERAL-"])
    let small = MessageToStore(bytes: Array(repeating: 0x61, count: 4096))
    let large = MessageToStore(bytes: Array(repeating: 0x61, count: 4097))
    #expect(minus.encode(.append(MailboxName("INBOX"), messages: [small]), tag: "a").synchronisingLiterals == 0)
    #expect(minus.encode(.append(MailboxName("INBOX"), messages: [large]), tag: "a").synchronisingLiterals == 1)
  }

  @Test func multiappendWithFlagsAndDates() {
    let date = ReceivedDate(internalDate: "05-Mar-2024 14:07:09 +0100")!
    let messages = [
      MessageToStore(bytes: Array("A\r\n".utf8), flags: ["\\Seen"], receivedDate: date),
      MessageToStore(bytes: Array("BB\r\n".utf8)),
    ]
    let encoded = literalPlus.encode(.append(MailboxName("Sent"), messages: messages), tag: "a1")
    #expect(
      String(decoding: encoded.wireBytes, as: UTF8.self)
        == "a1 APPEND Sent (\\Seen) \"05-Mar-2024 14:07:09 +0100\" {3+}\r\nA\r\n {4+}\r\nBB\r\n\r\n")
    let synchronising = plain.encode(.append(MailboxName("Sent"), messages: messages), tag: "a1")
    #expect(synchronising.synchronisingLiterals == 2)
    #expect(synchronising.segments.filter { if case .literalData = $0 { true } else { false } }.count == 2)
  }

  @Test func credentialsAreMarkedSecret() {
    let login = plain.encode(.login(user: "joe", password: "p w\"d"), tag: "a1")
    #expect(String(decoding: login.wireBytes, as: UTF8.self) == "a1 LOGIN joe \"p w\\\"d\"\r\n")
    let traced = login.segments.map { segment -> String in
      switch segment {
      case .text(let bytes): return String(decoding: bytes, as: UTF8.self)
      case .secret(_, let traceAs): return traceAs
      case .literalData(let bytes): return "[\(bytes.count) bytes]"
      case .spooledLiteral(let body): return "[\(body.count) bytes]"
      case .awaitContinuation: return ""
      }
    }.joined()
    #expect(traced == "a1 LOGIN joe <redacted>\r\n")
    let auth = plain.encode(.authenticate(mechanism: "PLAIN", initialResponse: Array("\0joe\0secret".utf8)), tag: "a2")
    #expect(String(decoding: auth.wireBytes, as: UTF8.self) == "a2 AUTHENTICATE PLAIN AGpvZQBzZWNyZXQ=\r\n")
    #expect(auth.segments.contains(.secret(Array("AGpvZQBzZWNyZXQ=".utf8), traceAs: "<redacted>")))
  }

  @Test func searchKeys() {
    #expect(
      text(.uidSearch(.and([.since(year: 2024, month: 3, day: 5), .larger(1000)]), returnOptions: ["ALL"]))
        == "a1 UID SEARCH RETURN (ALL) (SINCE 5-Mar-2024 LARGER 1000)\r\n")
    #expect(
      text(.uidSearch(.header(field: "Message-ID", value: "<a@b>"), returnOptions: nil))
        == "a1 UID SEARCH HEADER Message-ID \"<a@b>\"\r\n")
  }

  @Test(arguments: ["INBOX", "Sent Items", "a\"b", "back\\slash", "Entw&APw-rfe", "x]y", "{5}", "NIL", "", "tab\there"])
  func mailboxNamesRoundTripThroughListResponses(name: String) throws {
    // Encode as a command argument, splice into a LIST response, parse it back.
    let encoded = literalPlus.encode(.create(MailboxName(name)), tag: "a")
    let argument = Array(encoded.wireBytes.dropFirst("a CREATE ".count).dropLast(2))
    let wire = Array("* LIST () \"/\" ".utf8) + argument.map { $0 } + Array("\r\n".utf8)
    let wireText = String(decoding: wire, as: UTF8.self).replacingOccurrences(of: "+}", with: "}")
    guard case .untagged(.list(let listing)) = try single(wireText) else {
      Issue.record("not a LIST")
      return
    }
    #expect(listing.name.wireName == name)
  }
}

@Suite struct ValueTests {
  @Test func uidSets() {
    var set = UIDSet()
    for value: UInt32 in [5, 1, 2, 3, 9, 4, 11, 10] { set.insert(value) }
    #expect(set.description == "1:5,9:11")
    #expect(set.count == 8)
    #expect(UIDSet(parsing: "7:3,20")?.description == "3:7,20")
    #expect(UIDSet(parsing: "1:*") == nil)
    #expect(UIDSet(parsing: "") == nil)
    #expect(UIDSet(1...10).chunked(maxCount: 4).map(\.description) == ["1:4", "5:8", "9:10"])
    #expect(UIDSet([1, 3, 5, 7]).chunked(maxCount: 3).map(\.description) == ["1,3,5", "7"])
    var top = UIDSet([UInt32.max])
    top.insert(UInt32.max - 1)
    #expect(top.description == "4294967294:4294967295")
  }

  @Test func internalDates() {
    let date = ReceivedDate(internalDate: " 1-Jan-2000 00:00:00 +0000")
    #expect(date?.secondsSince1970 == 946_684_800)
    #expect(date?.internalDateText == "01-Jan-2000 00:00:00 +0000")
    #expect(date?.description == "2000-01-01 00:00:00 +0000")
    let zoned = ReceivedDate(internalDate: "29-Feb-2024 23:59:59 -0730")
    #expect(zoned?.zoneMinutes == -450)
    #expect(zoned?.internalDateText == "29-Feb-2024 23:59:59 -0730")
    #expect(ReceivedDate(internalDate: "31-Dec-1969 23:59:59 +0000")?.secondsSince1970 == -1)
    #expect(ReceivedDate(internalDate: "1-Foo-2000 00:00:00 +0000") == nil)
    #expect(ReceivedDate(internalDate: "1-Jan-2000 25:00:00 +0000") == nil)
  }

  @Test func base64() {
    #expect(Base64.encode(Array("".utf8)) == "")
    #expect(Base64.encode(Array("f".utf8)) == "Zg==")
    #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
    #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
    #expect(Base64.decode("Zm9vYmE=") == Array("fooba".utf8))
    #expect(Base64.decode("!!") == nil)
  }
}
