import MailCore
import Testing

@Suite struct MessageHeaderTests {
  static let message = Array(
    ("Received: from a\r\n\tby b\r\nmessage-id:\r\n  <Abc.123@Example.COM>\r\nSubject: Hello\r\n  World\r\n"
      + "\r\nMessage-ID: <body@not.header>\r\n").utf8)

  @Test func fieldsAreFoundUnfoldedAndCaseInsensitive() {
    #expect(MessageHeader.field("Message-ID", in: Self.message) == "<Abc.123@Example.COM>")
    #expect(MessageHeader.field("subject", in: Self.message) == "Hello World")
    #expect(MessageHeader.field("X-Missing", in: Self.message) == nil)
    // A header without a body, with bare LF line ends.
    #expect(MessageHeader.field("To", in: Array("From: a\nTo: b@c".utf8)) == "b@c")
  }

  @Test func messageIDsNormalise() {
    #expect(MessageID(message: Self.message)?.normalized == "Abc.123@example.com")
    #expect(MessageID(fieldValue: "  <x@Y.org> (a comment)")?.normalized == "x@y.org")
    #expect(MessageID(fieldValue: "x@Y.ORG") == MessageID(fieldValue: "<x@y.org>"))
    // The local part is case-sensitive.
    #expect(MessageID(fieldValue: "<X@y.org>") != MessageID(fieldValue: "<x@y.org>"))
    #expect(MessageID(fieldValue: "<a@b> <c@d>")?.normalized == "a@b")
    #expect(MessageID(fieldValue: "   ") == nil)
    #expect(MessageID(fieldValue: "<>") == nil)
    #expect(MessageID(message: Array("Subject: none\r\n\r\n".utf8)) == nil)
  }
}
