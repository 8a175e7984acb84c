import IMAPCodec
import Testing

@Suite struct MalformedInputTests {
  static let malformed: [String] = [
    "a1 MAYBE whatever\r\n",
    "* 12 FETCH (UID)\r\n",
    "* 12 FETCH (UID abc)\r\n",
    "* 12 FETCH UID 1\r\n",
    "* LIST (\\Noselect \"/\" foo\r\n",
    "* LIST () \"//\" foo\r\n",
    "* STATUS foo (MESSAGES)\r\n",
    "* OK [UIDVALIDITY x] y\r\n",
    "* OK [APPENDUID 1 2:] y\r\n",
    "* 99999999999 EXISTS\r\n",
    "* 1 FETCH (INTERNALDATE \"32-Foo-2020 99:00:00 +0000\")\r\n",
    "* SEARCH 1 2 (MODSEQ)\r\n",
    "* 1 FETCH (BODY[HEADER {5}\r\n",
    "\r\n",
    "*\r\n",
  ]

  @Test(arguments: malformed) func malformedResponsesThrowTypedErrors(_ text: String) {
    #expect(throws: IMAPParseError.self) { _ = try replay(Array(text.utf8)) }
  }

  @Test func lineLimitIsEnforcedWithoutANewline() {
    let limits = IMAPParserLimits(maxLineLength: 1000)
    let endless = [UInt8](repeating: UInt8(ascii: "x"), count: 5000)
    #expect(throws: IMAPParseError.lineTooLong(limit: 1000)) { _ = try replay(endless, pieceSize: 100, limits: limits) }
  }

  @Test func inMemoryLiteralLimit() {
    let limits = IMAPParserLimits(maxInMemoryLiteral: 100)
    #expect(throws: IMAPParseError.literalTooLarge(size: 5000, limit: 100)) {
      _ = try replay(Array("* LIST () \"/\" {5000}\r\n".utf8), limits: limits)
    }
  }

  @Test func streamedLiteralLimit() {
    let limits = IMAPParserLimits(maxStreamedLiteral: 1 << 20)
    #expect(throws: IMAPParseError.literalTooLarge(size: 99_999_999_999, limit: 1 << 20)) {
      _ = try replay(Array("* 1 FETCH (BODY[] {99999999999}\r\n".utf8), limits: limits)
    }
  }

  @Test func nestingLimit() {
    let deep = "* XFOO " + String(repeating: "(", count: 200) + String(repeating: ")", count: 200) + "\r\n"
    #expect(throws: IMAPParseError.tooDeep(limit: 48)) { _ = try replay(Array(deep.utf8)) }
  }

  @Test func truncatedInputIsIncompleteNotAnError() throws {
    for text in ["* 1 FETCH (UID 1 BODY[] {10}\r\nabc", "* OK still typing", "* LIST () \"/\" {5}\r\nab"] {
      let result = try replay(Array(text.utf8))
      #expect(result.incomplete, "\(text)")
    }
  }

  @Test func bareLineFeedsAreTolerated() throws {
    #expect(try single("* 3 EXISTS\n") == .untagged(.exists(3)))
    #expect(try single("a OK done\n") == .tagged(tag: "a", status: ResponseStatus(kind: .ok, text: "done")))
  }
}
