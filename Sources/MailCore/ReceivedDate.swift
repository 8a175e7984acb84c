/// When a store received a message (IMAP's INTERNALDATE, a Maildir file's time, an mbox
/// separator's date), kept with its zone so it is written back as the source had it.
public struct ReceivedDate: Equatable, Hashable, Sendable, CustomStringConvertible {
  /// Seconds since 1970-01-01 UTC.
  public let secondsSince1970: Int64
  /// Offset from UTC in minutes, e.g. -420 for -0700.
  public let zoneMinutes: Int

  public init(secondsSince1970: Int64, zoneMinutes: Int = 0) {
    self.secondsSince1970 = secondsSince1970
    self.zoneMinutes = zoneMinutes
  }

  /// The local calendar date and time in its own zone.
  public var local: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
    let local = secondsSince1970 + Int64(zoneMinutes * 60)
    let days = local >= 0 ? local / 86400 : (local - 86399) / 86400
    let secondsOfDay = Int(local - days * 86400)
    let (year, month, day) = CivilDate.civil(fromDays: days)
    return (year, month, day, secondsOfDay / 3600, secondsOfDay / 60 % 60, secondsOfDay % 60)
  }

  /// `+hhmm` or `-hhmm`.
  public var zoneText: String {
    let zone = abs(zoneMinutes)
    return (zoneMinutes < 0 ? "-" : "+") + Self.two(zone / 60) + Self.two(zone % 60)
  }

  /// `2024-03-05 14:07:09 +0100`, for reports.
  public var description: String {
    let l = local
    return "\(l.year)-\(Self.two(l.month))-\(Self.two(l.day)) \(Self.two(l.hour)):\(Self.two(l.minute)):"
      + "\(Self.two(l.second)) \(zoneText)"
  }

  static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

  /// Midnight UTC of a `YYYY-MM-DD` day, for date options.
  public init?(day text: String) {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]),
      let day = Int(parts[2]), (1...12).contains(month), (1...31).contains(day)
    else { return nil }
    self.init(secondsSince1970: CivilDate.days(year: year, month: month, day: day) * 86400)
  }
}
