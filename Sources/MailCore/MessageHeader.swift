/// Reads header fields from the start of a message (RFC 5322 §2.2): the header ends at the
/// first empty line; a field continues on lines starting with space or tab.
public enum MessageHeader {
  /// The unfolded value of the first field named `name` (case-insensitive), trimmed, or nil.
  public static func field(_ name: String, in message: [UInt8]) -> String? {
    let wanted = Array(name.lowercased().utf8)
    var lines: [ArraySlice<UInt8>] = []
    var start = 0
    var index = 0
    // Split into lines until the empty line that ends the header.
    while index < message.count {
      if message[index] == 0x0A {
        var end = index
        if end > start && message[end - 1] == 0x0D { end -= 1 }
        if end == start { break }
        lines.append(message[start..<end])
        start = index + 1
      }
      index += 1
    }
    if start < message.count && index >= message.count { lines.append(message[start..<message.count]) }
    var lineIndex = 0
    while lineIndex < lines.count {
      let line = lines[lineIndex]
      lineIndex += 1
      guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
      let fieldName = line[line.startIndex..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
      guard Array(fieldName.drop { $0 == 0x20 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()) == wanted
      else {
        continue
      }
      var value = Array(line[(colon + 1)...])
      while lineIndex < lines.count, let first = lines[lineIndex].first, first == 0x20 || first == 0x09 {
        value += [0x20] + lines[lineIndex]
        lineIndex += 1
      }
      let text = String(decoding: value, as: UTF8.self)
      return text.trimmingWhitespace()
    }
    return nil
  }

  /// The address in an address field's value: what the last `<…>` holds (possibly empty, as
  /// in `Return-Path: <>`), else the first word with an `@`; nil when there is neither.
  public static func address(in value: String) -> Substring? {
    if let open = value.lastIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
      return value[value.index(after: open)..<close]
    }
    return value.split(separator: " ").first { $0.contains("@") }
  }
}

extension String {
  /// Without leading and trailing spaces and tabs, inner runs of whitespace collapsed.
  func trimmingWhitespace() -> String {
    split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
  }
}
