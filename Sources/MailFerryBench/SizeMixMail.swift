import Foundation

/// The heavier corpus, deterministic for a seed: sizes from 1 KB to 5 MB, most of
/// them small, a tail of megabyte attachments in base64 (73% of 1–10 KB text, 21% of
/// 10–100 KB, 5% of 100 KB–1 MB, 1% of 1–5 MB: about 74 KB on average, 10,000 messages
/// ≈ 740 MB).
struct SizeMixMail {
  let seed: UInt64

  static let folders = [
    "INBOX", "Archive/2019", "Archive/2020", "Archive/2021", "Archive/2022", "Archive/2023", "Archive/2024",
    "Projects/Ferry", "Projects/Harbour", "Lists/swift-dev", "Lists/dovecot", "Receipts", "Travel", "Family",
  ]

  private static let words = Array(
    "the quarterly report and the draft contract are attached please review before friday thanks regards"
      .split(separator: " ").map(String.init))

  func message(number: Int) -> [UInt8] {
    var random = SyntheticMail.Generator(state: seed &+ UInt64(truncatingIfNeeded: number) &* 0x9E37_79B9_7F4A_7C15)
    let bucket = random.next() % 1000
    let size: Int
    switch bucket {
    case 0..<730: size = 1_000 + Int(random.next() % 9_000)
    case 730..<940: size = 10_000 + Int(random.next() % 90_000)
    case 940..<990: size = 100_000 + Int(random.next() % 900_000)
    default: size = 1_000_000 + Int(random.next() % 4_000_000)
    }
    var text = """
      From: Sender \(number % 700) <sender\(number % 700)@example.org>\r
      To: Bob <bob@example.net>\r
      Subject: \(sentence(&random, words: 5)) \(number)\r
      Date: Wed, 6 Mar 2024 09:\(10 + number % 50):00 +0100\r
      Message-ID: <mix.\(number).\(String(random.next(), radix: 36))@example.org>\r
      MIME-Version: 1.0\r

      """
    let boundary = "mix\(number)"
    let attached = size > 10_000
    if attached { text += "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\r\n\r\n--\(boundary)\r\n" }
    text += "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    let textSize = attached ? 1_500 : size
    while text.utf8.count < textSize { text += sentence(&random, words: 16) + "\r\n" }
    guard attached else { return Array(text.utf8) }
    text += "--\(boundary)\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    // base64 lines of 76 characters and CRLF carry 57 bytes each.
    let payload = max(1, (size - text.utf8.count - 40) * 57 / 78)
    var blob = [UInt8](repeating: 0, count: payload)
    var index = 0
    while index < payload {
      var word = random.next()
      for _ in 0..<8 where index < payload {
        blob[index] = UInt8(truncatingIfNeeded: word)
        word >>= 8
        index += 1
      }
    }
    text += Data(blob).base64EncodedString(options: [
      .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
    ])
    text += "\r\n--\(boundary)--\r\n"
    return Array(text.utf8)
  }

  private func sentence(_ random: inout SyntheticMail.Generator, words count: Int) -> String {
    (0..<count).map { _ in Self.words[Int(random.next() % UInt64(Self.words.count))] }.joined(separator: " ")
  }
}
