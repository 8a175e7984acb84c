/// The mboxrd convention: each message is a `From ` separator line, the message with every
/// line that matches `>*From ` given one more `>`, and an empty line. Unquoting removes one
/// `>` from such lines, so any message round-trips exactly (docs/archive-format.md).
public enum Mboxrd {
  /// One message as an mboxrd record: separator line, quoted bytes, a line end if the
  /// message lacks one, and the empty line that ends the record.
  public static func record(_ message: [UInt8], sender: String, date secondsSince1970: Int64) -> [UInt8] {
    var out = separatorLine(sender: sender, date: secondsSince1970)
    out.reserveCapacity(out.count + message.count + message.count / 1000 + 2)
    appendQuoted(message, to: &out)
    if message.last != 0x0A { out.append(0x0A) }
    out.append(0x0A)
    return out
  }

  /// `From SENDER Www Mmm dd hh:mm:ss yyyy` (asctime, UTC) and a line feed.
  public static func separatorLine(sender: String, date secondsSince1970: Int64) -> [UInt8] {
    let cleaned = sender.isEmpty ? "MAILER-DAEMON" : String(sender.map { $0 == " " || $0 == "\t" ? "_" : $0 })
    return Array("From \(cleaned) \(asctime(secondsSince1970))\n".utf8)
  }

  /// The envelope sender for the separator line: Return-Path, else the From address, else
  /// `MAILER-DAEMON`.
  public static func sender(of message: [UInt8]) -> String {
    for field in ["Return-Path", "From"] {
      guard let value = MessageHeader.field(field, in: message),
        let address = MessageHeader.address(in: value)
      else { continue }
      if !address.isEmpty { return String(address) }
      if field == "Return-Path" { return "MAILER-DAEMON" }
    }
    return "MAILER-DAEMON"
  }

  /// Adds one `>` to every line of `message` that starts with `>*From `.
  public static func appendQuoted(_ message: [UInt8], to out: inout [UInt8]) {
    var lineStart = 0
    while lineStart < message.count {
      if needsQuoting(message, at: lineStart) { out.append(UInt8(ascii: ">")) }
      var end = lineStart
      while end < message.count && message[end] != 0x0A { end += 1 }
      if end < message.count { end += 1 }
      out.append(contentsOf: message[lineStart..<end])
      lineStart = end
    }
  }

  public static func quote(_ message: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(message.count)
    appendQuoted(message, to: &out)
    return out
  }

  /// Removes one `>` from every line that starts with `>+From `.
  public static func unquote<Bytes: RandomAccessCollection>(_ quoted: Bytes) -> [UInt8]
  where Bytes.Element == UInt8, Bytes.Index == Int {
    var out: [UInt8] = []
    out.reserveCapacity(quoted.count)
    var lineStart = quoted.startIndex
    while lineStart < quoted.endIndex {
      var skip = lineStart
      if quoted[lineStart] == UInt8(ascii: ">") && needsQuoting(quoted, at: lineStart + 1) { skip += 1 }
      var end = lineStart
      while end < quoted.endIndex && quoted[end] != 0x0A { end += 1 }
      if end < quoted.endIndex { end += 1 }
      out.append(contentsOf: quoted[skip..<end])
      lineStart = end
    }
    return out
  }

  /// Whether the line starting at `index` matches `>*From `.
  static func needsQuoting<Bytes: RandomAccessCollection>(_ bytes: Bytes, at index: Int) -> Bool
  where Bytes.Element == UInt8, Bytes.Index == Int {
    var position = index
    while position < bytes.endIndex && bytes[position] == UInt8(ascii: ">") { position += 1 }
    let from: [UInt8] = [0x46, 0x72, 0x6F, 0x6D, 0x20]  // "From "
    guard bytes.endIndex - position >= from.count else { return false }
    for offset in 0..<from.count where bytes[position + offset] != from[offset] { return false }
    return true
  }

  /// `Www Mmm dd hh:mm:ss yyyy` in UTC, as C's asctime writes it (day padded with a space).
  public static func asctime(_ secondsSince1970: Int64) -> String {
    let days = secondsSince1970 >= 0 ? secondsSince1970 / 86400 : (secondsSince1970 - 86399) / 86400
    let secondOfDay = Int(secondsSince1970 - days * 86400)
    let (year, month, day) = CivilDate.civil(fromDays: days)
    let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    let weekday = weekdays[Int(((days % 7) + 7) % 7)]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let paddedDay = day < 10 ? " \(day)" : "\(day)"
    return
      "\(weekday) \(months[month - 1]) \(paddedDay) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) \(year)"
  }
}

extension CivilDate {
  /// Year, month and day of a count of days since 1970-01-01 (the inverse of `days`).
  public static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
    let shifted = days + 719468
    let era = (shifted >= 0 ? shifted : shifted - 146096) / 146097
    let dayOfEra = shifted - era * 146097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
    let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
    return (Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0), month, day)
  }
}
