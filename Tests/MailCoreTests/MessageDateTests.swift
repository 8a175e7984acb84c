import MailCore
import Testing

@Suite struct MessageDateTests {
  @Test func rfc5322DatesWithZonesCommentsAndObsoleteForms() {
    // 2024-03-05 13:07:09 UTC is 1709644029.
    #expect(MessageDate.parse("Tue, 5 Mar 2024 14:07:09 +0100")! == (1_709_644_029, 60))
    #expect(MessageDate.parse("5 Mar 2024 08:07:09 -0500 (EST)")! == (1_709_644_029, -300))
    #expect(MessageDate.parse("Tue,  05 Mar 2024 13:07:09 GMT")! == (1_709_644_029, 0))
    #expect(MessageDate.parse("Tue, 5 Mar 24 05:07:09 PST")! == (1_709_644_029, -480))
    #expect(MessageDate.parse("5 Mar 2024 13:07 +0000")! == (1_709_644_020, 0))
    for bad in ["", "yesterday", "32 Mar 2024 10:00:00 +0000", "5 Foo 2024 10:00:00 +0000", "5 Mar 2024 25:00 +0000"] {
      #expect(MessageDate.parse(bad) == nil, "\(bad)")
    }
  }

  @Test func arrivalPrefersTheTopmostReceivedField() {
    let message = Array(
      ("Received: from b by c; Tue, 5 Mar 2024 14:07:09 +0100\r\nReceived: from a by b; Tue, 5 Mar 2024 14:00:00 +0100\r\n"
        + "Date: Mon, 4 Mar 2024 09:00:00 +0000\r\n\r\nbody\r\n").utf8)
    #expect(MessageDate.arrival(in: message)! == (1_709_644_029, 60))
    let dateOnly = Array("Date: Tue, 5 Mar 2024 13:07:09 +0000\r\n\r\nbody\r\n".utf8)
    #expect(MessageDate.arrival(in: dateOnly)! == (1_709_644_029, 0))
    #expect(MessageDate.arrival(in: Array("Subject: none\r\n\r\n".utf8)) == nil)
  }
}
