import MailCore

/// Flags, keywords and received dates for the benchmark's messages, derived from the
/// message number so every run stores the same account: enough variety (keywords, dates
/// over ten years in several zones) that a copy which drops any of it shows in the
/// verifier's column.
enum MessageAttributes {
  static func flags(number: Int) -> [String] {
    var flags: [String] = []
    if number % 3 != 0 { flags.append("\\Seen") }
    if number % 7 == 0 { flags.append("\\Flagged") }
    if number % 5 == 0 { flags.append("\\Answered") }
    if number % 11 == 0 { flags.append("$Forwarded") }
    if number % 13 == 0 { flags.append("Work") }
    return flags
  }

  /// A date between 2015 and 2025, in one of four zones.
  static func receivedDate(number: Int) -> ReceivedDate {
    var random = SyntheticMail.Generator(state: UInt64(truncatingIfNeeded: number) &* 0x2545_F491_4F6C_DD1D)
    let start: Int64 = 1_420_070_400  // 2015-01-01 00:00:00 UTC
    let span: Int64 = 10 * 365 * 86400
    let zones = [60, -420, 330, 0]
    return ReceivedDate(
      secondsSince1970: start + Int64(random.next() % UInt64(span)), zoneMinutes: zones[number % zones.count])
  }

  static func toStore(_ bytes: [UInt8], number: Int) -> MessageToStore {
    MessageToStore(bytes: bytes, flags: flags(number: number), receivedDate: receivedDate(number: number))
  }
}
