import MailCore

/// IMAP's INTERNALDATE text form, `dd-Mon-yyyy hh:mm:ss +zzzz` (RFC 3501 `date-time`).
extension ReceivedDate {
  private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  /// Parses `dd-Mon-yyyy hh:mm:ss +zzzz` (the day may be space-padded).
  public init?(internalDate text: String) {
    let trimmed = text.drop { $0 == " " }
    let parts = trimmed.split(separator: " ")
    guard parts.count == 3 else { return nil }
    let date = parts[0].split(separator: "-")
    let time = parts[1].split(separator: ":")
    let zone = parts[2]
    guard date.count == 3, time.count == 3, zone.count == 5,
      let day = Int(date[0]), let month = Self.months.firstIndex(where: { $0.uppercased() == date[1].uppercased() }),
      let year = Int(date[2]), let hour = Int(time[0]), let minute = Int(time[1]), let second = Int(time[2]),
      let zoneValue = Int(zone.dropFirst()), zone.first == "+" || zone.first == "-",
      (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
      year >= 1900 && year <= 9999
    else { return nil }
    let offset = (zoneValue / 100) * 60 + zoneValue % 100
    let zoneMinutes = zone.first == "-" ? -offset : offset
    let days = CivilDate.days(year: year, month: month + 1, day: day)
    let local = days * 86400 + Int64(hour * 3600 + minute * 60 + second)
    self.init(secondsSince1970: local - Int64(zoneMinutes * 60), zoneMinutes: zoneMinutes)
  }

  /// `dd-Mon-yyyy hh:mm:ss +zzzz`, as APPEND takes it.
  public var internalDateText: String {
    let l = local
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(two(l.day))-\(Self.months[l.month - 1])-\(l.year) \(two(l.hour)):\(two(l.minute)):\(two(l.second)) "
      + zoneText
  }
}
