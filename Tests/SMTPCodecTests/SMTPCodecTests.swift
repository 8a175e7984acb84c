import SMTPCodec
import Testing

@Suite struct SMTPReplyTests {
  /// Feeds reply lines (of a transcript) one by one; returns the replies completed.
  func replies(_ transcript: String) throws -> [SMTPReply] {
    var reader = SMTPReplyReader()
    var result: [SMTPReply] = []
    for line in transcript.split(separator: "\r\n", omittingEmptySubsequences: false) where !line.isEmpty {
      if let reply = try reader.feed(Array(line.utf8)) { result.append(reply) }
    }
    return result
  }

  @Test func postfixEHLOAndItsExtensions() throws {
    let ehlo = try replies(
      "250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n"
        + "250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"
    )
    #expect(ehlo.count == 1)
    let extensions = SMTPExtensions(ehloReply: ehlo[0])
    #expect(extensions.sizeLimit == 10_240_000)
    #expect(extensions.authMechanisms == ["PLAIN", "LOGIN"])
    for keyword in ["PIPELINING", "STARTTLS", "8BITMIME", "SMTPUTF8", "CHUNKING"] { #expect(extensions.has(keyword)) }
    #expect(!extensions.has("mail.example.org"))  // the greeting line is not an extension
    #expect(SMTPExtensions(keywords: ["SIZE": []]).sizeLimit == nil)
    #expect(SMTPExtensions(keywords: ["SIZE": ["0"]]).sizeLimit == nil)
  }

  @Test func enhancedCodesAndClasses() throws {
    let ok = try #require(try replies("250 2.1.5 Ok\r\n").first)
    #expect(ok.code == 250 && ok.enhancedCode == "2.1.5" && ok.text == "Ok" && ok.isPositive)
    let rejected = try #require(
      try replies("554 5.7.1 <reject@mailferry.test>: Recipient address rejected: Access denied\r\n").first)
    #expect(rejected.isPermanent && rejected.enhancedCode == "5.7.1")
    let deferred = try #require(try replies("450 4.2.0 <defer@x>: Recipient address rejected: try later\r\n").first)
    #expect(deferred.isTransient)
    // A number that does not match the reply's class is text, not an enhanced code.
    let plain = try #require(try replies("250 5.1.1 looks like a code\r\n").first)
    #expect(plain.enhancedCode == nil)
    let greeting = try #require(try replies("220 mx ESMTP\r\n").first)
    #expect(greeting.code == 220 && greeting.lines == ["mx ESMTP"])
    let bare = try #require(try replies("354\r\n").first)
    #expect(bare.code == 354 && bare.lines == [""])
  }

  @Test func lmtpAnswersOncePerRecipient() throws {
    let answers = try replies(
      "250 2.0.0 <a@x> Saved\r\n550 5.1.1 <b@x> User doesn't exist\r\n452 4.2.2 <c@x> Quota\r\n")
    #expect(answers.map(\.code) == [250, 550, 452])
  }

  @Test func malformedRepliesAreTypedErrors() {
    for bad in ["", "25", "ok", "2500 x", "250:x", "600 out of range", "099 low"] {
      var reader = SMTPReplyReader()
      #expect(throws: SMTPParseError.self, "\(bad)") { try reader.feed(Array(bad.utf8)) }
    }
    var reader = SMTPReplyReader()
    #expect(throws: SMTPParseError.inconsistentCodes(first: 250, then: 550)) {
      _ = try reader.feed(Array("250-first".utf8))
      _ = try reader.feed(Array("550 second".utf8))
    }
    var endless = SMTPReplyReader()
    #expect(throws: SMTPParseError.tooManyLines(limit: SMTPReplyReader.maxLines)) {
      for _ in 0...SMTPReplyReader.maxLines { _ = try endless.feed(Array("250-more".utf8)) }
    }
  }
}

@Suite struct DotStufferTests {
  func stuffed(_ text: String) -> String { String(decoding: DotStuffer.stuff(Array(text.utf8)), as: UTF8.self) }

  @Test func leadingDotsAreDoubledAndTheMessageIsTerminated() {
    #expect(
      stuffed("Subject: x\r\n\r\n.\r\n..two\r\nmid.dot\r\n") == "Subject: x\r\n\r\n..\r\n...two\r\nmid.dot\r\n.\r\n")
    #expect(stuffed(".first line") == "..first line\r\n.\r\n")
    #expect(stuffed("") == ".\r\n")
  }

  @Test func bareLineEndsBecomeCRLF() {
    #expect(stuffed("a\nb\rc\r\n.d\n") == "a\r\nb\r\nc\r\n..d\r\n.\r\n")
  }

  /// A spooled message is stuffed chunk by chunk: every split gives the same bytes.
  @Test func stuffingInChunksMatchesStuffingWhole() {
    for text in ["Subject: x\r\n\r\n.\r\n..two\r\nmid.dot\r\n", "a\nb\rc\r\n.d\n", ".\r\r\n.", ""] {
      let message = Array(text.utf8)
      for size in 1...max(message.count, 1) {
        var stream = DotStuffingStream()
        var output: [UInt8] = []
        for start in stride(from: 0, to: message.count, by: size) {
          Array(message[start..<min(start + size, message.count)]).withUnsafeBytes { stream.stuff($0, into: &output) }
        }
        stream.finish(into: &output)
        #expect(output == DotStuffer.stuff(message), "chunks of \(size) of \(text.debugDescription)")
      }
    }
  }
}

/// Envelope addresses from untrusted headers never change the command they go into.
@Suite struct EnvelopeAddressTests {
  @Test func returnPathsThatWouldInjectAreRefused() {
    #expect(EnvelopeAddress.fromReturnPath("<bounce@x.example>") == "bounce@x.example")
    #expect(EnvelopeAddress.fromReturnPath("  <bounce@x.example>  ") == "bounce@x.example")
    #expect(EnvelopeAddress.fromReturnPath("bounce@x.example") == "bounce@x.example")
    #expect(EnvelopeAddress.fromReturnPath("<>") == "")
    #expect(EnvelopeAddress.fromReturnPath("<bounce@x.example> NOTIFY=NEVER XSPOOF=1") == nil)
    #expect(EnvelopeAddress.fromReturnPath("<bounce@x.example\rRCPT TO:<v@x>>") == nil)
    #expect(EnvelopeAddress.fromReturnPath("<a b@x.example>") == nil)
    #expect(EnvelopeAddress.fromReturnPath("<a@x.example") == nil)
    #expect(EnvelopeAddress.fromReturnPath("<a<b@x.example>") == nil)
    #expect(EnvelopeAddress.fromReturnPath("<nobody>") == nil)
    #expect(EnvelopeAddress.isValid("ünï@x.example"))
    #expect(!EnvelopeAddress.isValid("a@x.example\u{1B}[2J"))
    #expect(!EnvelopeAddress.isValid("a@x.example\u{85}"))
  }
}
