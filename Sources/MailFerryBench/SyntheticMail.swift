import Foundation

/// Deterministic, realistic-looking messages: headers like a mail client's, text bodies of
/// varied length, some with a base64 attachment. Sizes spread from ~1 KB to ~200 KB.
struct SyntheticMail {
  let seed: UInt64

  private static let words = """
    the meeting report draft review budget server release schedule team customer invoice
    project update migration backup archive folder message thread reply attached please
    thanks regards tomorrow monday friday question answer issue fixed deployed tested
    """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

  func message(number: Int) -> [UInt8] {
    var random = Generator(state: seed &+ UInt64(number) &* 0x9E37_79B9_7F4A_7C15)
    let sender = "user\(random.next() % 500)@example.org"
    var text = """
      Return-Path: <\(sender)>\r
      Received: from mx.example.org (mx.example.org [192.0.2.\(random.next() % 250)])\r
      \tby mail.example.net with ESMTPS id \(String(random.next(), radix: 36))\r
      \tfor <bob@example.net>; Tue, 5 Mar 2024 14:07:09 +0100\r
      From: Sender \(number) <\(sender)>\r
      To: Bob <bob@example.net>\r
      Subject: \(sentence(&random, words: 6))\r
      Date: Tue, 5 Mar 2024 14:\(10 + number % 50):09 +0100\r
      Message-ID: <\(number).\(String(random.next(), radix: 36))@example.org>\r
      MIME-Version: 1.0\r

      """
    let paragraphs = 2 + Int(random.next() % 30)
    let withAttachment = random.next() % 10 == 0
    if withAttachment {
      text += "Content-Type: multipart/mixed; boundary=\"b\(number)\"\r\n\r\n--b\(number)\r\n"
    }
    text += "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    for _ in 0..<paragraphs { text += sentence(&random, words: 40 + Int(random.next() % 60)) + "\r\n\r\n" }
    if withAttachment {
      text += "--b\(number)\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      let size = 20_000 + Int(random.next() % 130_000)
      let blob = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      let encoded = Data(blob).base64EncodedString(options: [
        .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
      ])
      text += encoded + "\r\n--b\(number)--\r\n"
    }
    return Array(text.utf8)
  }

  private func sentence(_ random: inout Generator, words count: Int) -> String {
    (0..<count).map { _ in Self.words[Int(random.next() % UInt64(Self.words.count))] }.joined(separator: " ")
  }

  struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }
}
