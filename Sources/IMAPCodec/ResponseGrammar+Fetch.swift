import MailCore

/// FETCH data (RFC 3501 §7.4.2, RFC 9051 §7.5.2): attributes and body sections, which may
/// be streamed.
extension ResponseGrammar {

  /// msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP …) ")"
  mutating func fetchAttributes(_ sequenceNumber: UInt32) throws -> [FetchAttribute] {
    try expect("(")
    var attributes: [FetchAttribute] = []
    while peek() != UInt8(ascii: ")") {
      if !attributes.isEmpty { try space() }
      let attribute = try fetchAttribute()
      if partial, index == bytes.count, case .streamedBody(let section, let origin, let size) = attribute {
        let binary = streamed[index]?.binary ?? false
        throw Interruption.reachedStream(
          BodyStreamStart(
            sequenceNumber: sequenceNumber, attributesBefore: attributes, section: section, origin: origin,
            size: size, binary: binary))
      }
      attributes.append(attribute)
    }
    index += 1
    return attributes
  }

  mutating func fetchAttribute() throws -> FetchAttribute {
    let start = index
    while let byte = peek(), byte != UInt8(ascii: " "), byte != UInt8(ascii: "["), byte != UInt8(ascii: "("),
      byte != UInt8(ascii: ")"), !isLineEnd(byte)
    {
      index += 1
    }
    guard index > start else { throw malformed("expected a FETCH item") }
    let name = String(decoding: bytes[start..<index], as: UTF8.self).uppercased()
    if peek() == UInt8(ascii: "[") {
      let section = try sectionText()
      var origin: UInt32?
      if peek() == UInt8(ascii: "<") {
        index += 1
        origin = try number32()
        try expect(">")
      }
      try space()
      switch name {
      case "BODY", "BINARY":
        return try bodyValue(section: section, origin: origin)
      case "BINARY.SIZE":
        return .binarySize(section: section, size: try number64())
      default:
        return .other(name: "\(name)[\(section)]", value: try genericValue())
      }
    }
    try space()
    switch name {
    case "UID": return .uid(try number32())
    case "FLAGS": return .flags(try flagList())
    case "RFC822.SIZE": return .rfc822Size(try number64())
    case "INTERNALDATE":
      let text = String(decoding: try quoted(), as: UTF8.self)
      guard let date = ReceivedDate(internalDate: text) else { throw malformed("bad INTERNALDATE \"\(text)\"") }
      return .internalDate(date)
    case "MODSEQ":
      try expect("(")
      let value = try number64()
      try expect(")")
      return .modSeq(value)
    case "X-GM-MSGID": return .gmailMessageID(try number64())
    case "X-GM-THRID": return .other(name: name, value: String(try number64()))
    case "X-GM-LABELS": return .gmailLabels(try gmailLabels())
    case "RFC822": return try bodyValue(section: "", origin: nil)
    case "RFC822.HEADER": return try bodyValue(section: "HEADER", origin: nil)
    case "RFC822.TEXT": return try bodyValue(section: "TEXT", origin: nil)
    default: return .other(name: name, value: try genericValue())
    }
  }

  /// Gmail's label list: `(\\Inbox \\Important "Project X" work)`; a system label is a
  /// backslash and an atom, any other an astring (modified UTF-7, as mailbox names are).
  mutating func gmailLabels() throws -> [String] {
    try expect("(")
    var labels: [String] = []
    while peek() != UInt8(ascii: ")") {
      if !labels.isEmpty { try space() }
      if peek() == UInt8(ascii: "\\") {
        let start = index
        index += 1
        while let byte = peek(), isAtomChar(byte) { index += 1 }
        guard index > start + 1 else { throw malformed("expected a label after \\") }
        labels.append(String(decoding: bytes[start..<index], as: UTF8.self))
      } else {
        labels.append(String(decoding: try astring(), as: UTF8.self))
      }
    }
    index += 1
    return labels
  }

  /// `[section]`: the text between the brackets, kept as written (uppercased).
  mutating func sectionText() throws -> String {
    try expect("[")
    let start = index
    var parentheses = 0
    while let byte = peek(), byte != UInt8(ascii: "]") || parentheses > 0 {
      guard !isLineEnd(byte) else { throw malformed("unterminated section") }
      if byte == UInt8(ascii: "(") { parentheses += 1 }
      if byte == UInt8(ascii: ")") { parentheses -= 1 }
      index += 1
    }
    let text = String(decoding: bytes[start..<index], as: UTF8.self).uppercased()
    try expect("]")
    return text
  }

  /// nstring / literal8 for a body section: streamed or in memory.
  mutating func bodyValue(section: String, origin: UInt32?) throws -> FetchAttribute {
    if peekIsNil() {
      index += 3
      return .body(section: section, origin: origin, data: nil)
    }
    if peek() == UInt8(ascii: "{") || peek() == UInt8(ascii: "~") {
      let marker = try literalMarker()
      if let stream = streamed[index] {
        return .streamedBody(section: section, origin: origin, size: stream.size)
      }
      return .body(section: section, origin: origin, data: try literalData(size: marker))
    }
    return .body(section: section, origin: origin, data: try quoted())
  }
}
