import MailCore
import Testing

@Suite struct MboxrdTests {
  static let tricky: [[UInt8]] = [
    Array("From: a@example.org\r\nSubject: one\r\n\r\nFrom the start\r\n>From quoted\r\n>>From twice\r\nend\r\n".utf8),
    Array("From nobody at the very first line\nSubject: two\n\nbody\n\n\n".utf8),
    Array("Subject: no final line end\r\n\r\nFromage is not a separator".utf8),
    Array("Subject: empty lines\r\n\r\n\r\n\r\nFrom \r\n".utf8),
  ]

  @Test func quotingRoundTripsEveryLine() {
    for message in Self.tricky {
      #expect(Mboxrd.unquote(Mboxrd.quote(message)) == message)
    }
    let quoted = String(decoding: Mboxrd.quote(Self.tricky[0]), as: UTF8.self)
    #expect(quoted.contains("\r\n>From the start\r\n>>From quoted\r\n>>>From twice\r\n"))
    #expect(quoted.hasPrefix("From: a@example.org"))  // "From:" is a header, not a separator
  }

  @Test func separatorLineCarriesSenderAndAsctimeInUTC() {
    // 2024-03-05 13:07:09 UTC, a Tuesday.
    #expect(Mboxrd.asctime(1_709_644_029) == "Tue Mar  5 13:07:09 2024")
    #expect(Mboxrd.asctime(0) == "Thu Jan  1 00:00:00 1970")
    #expect(Mboxrd.asctime(951_782_400) == "Tue Feb 29 00:00:00 2000")
    #expect(Mboxrd.asctime(-1) == "Wed Dec 31 23:59:59 1969")
    let line = Mboxrd.separatorLine(sender: "a b@example.org", date: 1_709_644_029)
    #expect(String(decoding: line, as: UTF8.self) == "From a_b@example.org Tue Mar  5 13:07:09 2024\n")
  }

  @Test func senderComesFromReturnPathThenFrom() {
    #expect(Mboxrd.sender(of: Array("Return-Path: <r@x.org>\r\nFrom: F <f@x.org>\r\n\r\n".utf8)) == "r@x.org")
    #expect(Mboxrd.sender(of: Array("Return-Path: <>\r\nFrom: f@x.org\r\n\r\n".utf8)) == "MAILER-DAEMON")
    #expect(Mboxrd.sender(of: Array("From: Name <f@x.org>\r\n\r\n".utf8)) == "f@x.org")
    #expect(Mboxrd.sender(of: Array("Subject: none\r\n\r\n".utf8)) == "MAILER-DAEMON")
  }

  @Test func splitterGivesBackEveryMessageWhateverTheChunkSize() {
    var stream: [UInt8] = []
    var offsets: [Int] = []
    for (index, message) in Self.tricky.enumerated() {
      offsets.append(stream.count)
      stream += Mboxrd.record(message, sender: "s\(index)@x.org", date: 1_709_644_029)
    }
    for chunk in [1, 2, 7, 64, stream.count] {
      var splitter = MboxSplitter()
      var records: [MboxSplitter.Record] = []
      var start = 0
      while start < stream.count {
        splitter.feed(stream[start..<min(stream.count, start + chunk)]) { records.append($0) }
        start += chunk
      }
      splitter.finish { records.append($0) }
      #expect(records.count == Self.tricky.count, "chunk \(chunk)")
      for (index, record) in records.enumerated() {
        // A message without a final line end gains one; every other comes back exactly.
        var expected = Self.tricky[index]
        if expected.last != 0x0A { expected.append(0x0A) }
        #expect(record.message == expected, "chunk \(chunk), message \(index)")
        #expect(record.offset == offsets[index])
        #expect(record.separator.hasPrefix("From s\(index)@x.org "))
      }
      #expect(splitter.leadingGarbage == 0)
    }
  }

  @Test func splitterCountsBytesBeforeTheFirstSeparator() {
    var splitter = MboxSplitter()
    var records: [MboxSplitter.Record] = []
    splitter.feed(Array("garbage\nFrom x Thu Jan  1 00:00:00 1970\nSubject: a\n\nbody\n".utf8)) { records.append($0) }
    splitter.finish { records.append($0) }
    #expect(splitter.leadingGarbage == 8)
    #expect(records.map(\.message) == [Array("Subject: a\n\nbody\n".utf8)])
  }
}
