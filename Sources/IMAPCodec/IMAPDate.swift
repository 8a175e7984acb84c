import MailCore

/// An INTERNALDATE: `"17-Jul-1996 02:44:25 -0700"`. Kept with its zone, so it is written
/// back exactly as the source server had it.
public struct IMAPDate: Equatable, Hashable, Sendable, CustomStringConvertible {
  /// Seconds since 1970-01-01 UTC.
  public let secondsSince1970: Int64
  /// Offset from UTC in minutes, e.g. -420 for -0700.
  public let zoneMinutes: Int

  private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  public init(secondsSince1970: Int64, zoneMinutes: Int = 0) {
    self.secondsSince1970 = secondsSince1970
    self.zoneMinutes = zoneMinutes
  }

  /// Parses `dd-Mon-yyyy hh:mm:ss +zzzz` (the day may be space-padded).
  public init?(parsing text: String) {
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
    let days = Self.daysFromCivil(year: year, month: month + 1, day: day)
    let local = days * 86400 + Int64(hour * 3600 + minute * 60 + second)
    self.init(secondsSince1970: local - Int64(zoneMinutes * 60), zoneMinutes: zoneMinutes)
  }

  /// `dd-Mon-yyyy hh:mm:ss +zzzz`, as APPEND takes it.
  public var description: String {
    let local = secondsSince1970 + Int64(zoneMinutes * 60)
    let days = local >= 0 ? local / 86400 : (local - 86399) / 86400
    let secondsOfDay = Int(local - days * 86400)
    let (year, month, day) = Self.civilFromDays(days)
    let sign = zoneMinutes < 0 ? "-" : "+"
    let zone = abs(zoneMinutes)
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(two(day))-\(Self.months[month - 1])-\(year) \(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):"
      + "\(two(secondsOfDay % 60)) \(sign)\(two(zone / 60))\(two(zone % 60))"
  }

  static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
    CivilDate.days(year: year, month: month, day: day)
  }

  // The inverse of CivilDate.days (Howard Hinnant's civil-from-days).
  static func civilFromDays(_ days: Int64) -> (Int, Int, Int) {
    let z = days + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let dayOfEra = z - era * 146097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return (Int(year), Int(month), Int(day))
  }
}
