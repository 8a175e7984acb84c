import MailCore
import Testing

/// Line-ending normalisation, header sections and first differences: what the engine and
/// `verify` compare stored copies with.
@Suite struct MessageBytesTests {
  @Test(arguments: [
    ("a\nb\n", "a\r\nb\r\n"), ("a\r\nb", "a\r\nb\r\n"), ("\n", "\r\n"), ("", ""), ("x\r\n\ny", "x\r\n\r\ny\r\n"),
    ("\r\n", "\r\n"),
  ])
  func normalisesLineEndings(input: String, expected: String) {
    let bytes = Array(input.utf8)
    #expect(MessageBytes.normalized(bytes) == Array(expected.utf8))
    #expect(MessageBytes.normalizedSize(bytes) == expected.utf8.count)
    #expect(ContentHasher.hash(bytes) == ContentHasher.hash(Array(expected.utf8)))
  }

  @Test(arguments: [
    ("a\nb", true), ("\n", true), ("a\r\nb\n", true), ("a\r\nb\r\n", false), ("no line end", false), ("", false),
    ("a\r\n\r\n", false),
  ])
  func findsBareLineFeeds(input: String, expected: Bool) {
    #expect(MessageBytes.containsBareLineFeed(Array(input.utf8)) == expected)
  }

  @Test func headerSectionEndsAtTheEmptyLine() {
    #expect(
      MessageHeader.headerSection(of: Array("A: 1\r\nB: 2\r\n\r\nbody\r\n".utf8)) == Array("A: 1\r\nB: 2\r\n\r\n".utf8))
    #expect(MessageHeader.headerSection(of: Array("A: 1\nB: 2\n\nbody\n".utf8)) == Array("A: 1\nB: 2\n\n".utf8))
    #expect(MessageHeader.headerSection(of: Array("A: 1\r\n".utf8)) == Array("A: 1\r\n".utf8))
  }

  @Test func firstDifferenceNamesTheByte() {
    let sent = Array("Subject: Grüße\r\n".utf8)
    var stored = sent
    stored[11] = UInt8(ascii: "X")
    let found = MessageBytes.firstDifference(sent, stored)
    #expect(found == ByteDifference(offset: 11, sent: 0xC3, stored: 0x58))
    #expect(found?.description == "byte 11: sent 0xC3, stored 0x58 'X'")
    #expect(MessageBytes.firstDifference(sent, sent) == nil)
    let longer = MessageBytes.firstDifference(sent, sent + [0x41])
    #expect(longer?.description == "byte \(sent.count): sent nothing (it ends there), stored 0x41 'A'")
  }
}
