/// Dates in message headers (RFC 5322 §3.3, with the obsolete zone names of §4.3), for
/// sources that keep no arrival date of their own (POP3): the topmost Received field says
/// when the last server took the message in, the Date field when it was written.
public enum MessageDate {
  /// When the message arrived, as well as its header tells: the date of the first
  /// Received field, else the Date field. Seconds since 1970 and the zone in minutes.
  public static func arrival(in message: [UInt8]) -> (secondsSince1970: Int64, zoneMinutes: Int)? {
    if let received = MessageHeader.field("Received", in: message), let semicolon = received.lastIndex(of: ";"),
      let date = parse(String(received[received.index(after: semicolon)...]))
    {
      return date
    }
    return MessageHeader.field("Date", in: message).flatMap(parse)
  }

  private static let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
  private static let zoneNames: [String: Int] = [
    "UT": 0, "GMT": 0, "Z": 0, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360,
    "PST": -480, "PDT": -420,
  ]

  /// Parses `[Day,] DD Mon YYYY HH:MM[:SS] ZONE`, tolerating comments and extra spaces.
  public static func parse(_ text: String) -> (secondsSince1970: Int64, zoneMinutes: Int)? {
    var cleaned = ""
    var depth = 0
    for character in text {
      if character == "(" {
        depth += 1
      } else if character == ")" {
        depth = max(0, depth - 1)
      } else if depth == 0 {
        cleaned.append(character == "," || character == "\t" ? " " : character)
      }
    }
    var parts = cleaned.split(separator: " ").map(String.init)
    if let first = parts.first, Int(first) == nil { parts.removeFirst() }  // day of week
    guard parts.count >= 4, let day = Int(parts[0]), (1...31).contains(day),
      let month = months.firstIndex(of: String(parts[1].prefix(3)).uppercased()), var year = Int(parts[2])
    else { return nil }
    if year < 50 { year += 2000 } else if year < 1000 { year += 1900 }
    let time = parts[3].split(separator: ":").compactMap { Int($0) }
    guard time.count >= 2, (0...23).contains(time[0]), (0...59).contains(time[1]) else { return nil }
    let second = time.count > 2 ? time[2] : 0
    guard (0...60).contains(second) else { return nil }
    var zoneMinutes = 0
    if parts.count > 4 {
      let zone = parts[4]
      if let sign = zone.first, sign == "+" || sign == "-", zone.count == 5, let value = Int(zone.dropFirst()) {
        zoneMinutes = (value / 100 * 60 + value % 100) * (sign == "-" ? -1 : 1)
      } else {
        zoneMinutes = zoneNames[zone.uppercased()] ?? 0
      }
    }
    let days = CivilDate.days(year: year, month: month + 1, day: day)
    let local = days * 86400 + Int64(time[0] * 3600 + time[1] * 60 + second)
    return (local - Int64(zoneMinutes * 60), zoneMinutes)
  }
}

/// Calendar arithmetic without Foundation (proleptic Gregorian calendar).
public enum CivilDate {
  /// Days since 1970-01-01 (Howard Hinnant's days-from-civil algorithm).
  public static func days(year: Int, month: Int, day: Int) -> Int64 {
    let y = Int64(month <= 2 ? year - 1 : year)
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let m = Int64(month)
    let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146097 + dayOfEra - 719468
  }
}
