import MailCore
import Testing

@Suite struct ModifiedUTF7Tests {
  // Examples from RFC 3501 §5.1.3 and common real-world names.
  static let pairs: [(String, String)] = [
    ("INBOX", "INBOX"),
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
    ("Entwürfe", "Entw&APw-rfe"),
    ("Gesendete Objekte", "Gesendete Objekte"),
    ("R&D", "R&-D"),
    ("&", "&-"),
    ("Входящие", "&BBIERQQ+BDQETwRJBDgENQ-"),
    ("😀 mood", "&2D3eAA- mood"),
    ("a\tb", "a&AAk-b"),
  ]

  @Test(arguments: pairs) func encodesAndDecodes(name: String, encoded: String) throws {
    #expect(ModifiedUTF7.encode(name) == encoded)
    #expect(try ModifiedUTF7.decode(encoded) == name)
  }

  @Test(arguments: [
    "&U,BTFw",  // unterminated shift
    "&Jjo!-",  // bad base64 character
    "&AGE-",  // encodes printable ASCII ("a")
    "&2D3-",  // lone surrogate
    "&AAk",  // missing '-'
    "Entw\u{FC}rfe",  // 8-bit, not encoded
    "&U,BTF2-",  // nonzero padding bits
  ])
  func rejectsInvalidNames(encoded: String) {
    #expect(throws: ModifiedUTF7.DecodingError.self) { try ModifiedUTF7.decode(encoded) }
  }

  @Test func roundTripsEveryPlaneSample() throws {
    let name = "Ünïcödé/Ελληνικά/中文/𝄞/&/~"
    #expect(try ModifiedUTF7.decode(ModifiedUTF7.encode(name)) == name)
  }
}
