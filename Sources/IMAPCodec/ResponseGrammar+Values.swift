import MailCore

/// Values shared by every response: flag lists, UID sets, strings, literals.
extension ResponseGrammar {

  /// flag-list = "(" [flag *(SP flag)] ")"; also used for LIST attributes.
  mutating func flagList() throws -> [String] {
    try expect("(")
    var flags: [String] = []
    while peek() != UInt8(ascii: ")") {
      if !flags.isEmpty { try space() }
      let start = index
      if peek() == UInt8(ascii: "\\") { index += 1 }
      if peek() == UInt8(ascii: "*") {
        index += 1
      } else {
        while let byte = peek(), isAtomChar(byte) { index += 1 }
      }
      guard index > start else { throw malformed("expected a flag") }
      flags.append(String(decoding: bytes[start..<index], as: UTF8.self))
    }
    index += 1
    return flags
  }

  /// uid-set, as in APPENDUID, COPYUID, VANISHED and ESEARCH ALL.
  mutating func uidSet() throws -> UIDSet {
    let start = index
    while let byte = peek(), isDigit(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ",") { index += 1 }
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    guard let set = UIDSet(parsing: text) else { throw malformed("bad UID set \"\(text)\"") }
    return set
  }

  /// astring = 1*ASTRING-CHAR / string
  mutating func astring() throws -> [UInt8] {
    if let byte = peek(), byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "~") {
      return try string()
    }
    let start = index
    while let byte = peek(), isAtomChar(byte) || byte == UInt8(ascii: "]") { index += 1 }
    guard index > start else { throw malformed("expected a string") }
    return Array(bytes[start..<index])
  }

  /// nstring = string / nil
  mutating func nstring() throws -> [UInt8]? {
    if peekIsNil() {
      index += 3
      return nil
    }
    return try string()
  }

  /// string = quoted / literal (held in memory)
  mutating func string() throws -> [UInt8] {
    if peek() == UInt8(ascii: "\"") { return try quoted() }
    let size = try literalMarker()
    if streamed[index] != nil { throw Interruption.streamedOutsideBody }
    return try literalData(size: size)
  }

  /// quoted = DQUOTE *QUOTED-CHAR DQUOTE, with `\"` and `\\` escapes.
  mutating func quoted() throws -> [UInt8] {
    try expect("\"")
    var result: [UInt8] = []
    while true {
      guard let byte = peek(), !isLineEnd(byte) else { throw malformed("unterminated quoted string") }
      index += 1
      if byte == UInt8(ascii: "\"") { return result }
      if byte == UInt8(ascii: "\\") {
        guard let escaped = peek(), !isLineEnd(escaped) else { throw malformed("unterminated quoted string") }
        index += 1
        result.append(escaped)
      } else {
        result.append(byte)
      }
    }
  }

  /// `{n}`, `{n+}` or `~{n}` followed by CRLF; returns n and leaves the cursor on the data.
  mutating func literalMarker() throws -> UInt64 {
    if peek() == UInt8(ascii: "~") { index += 1 }
    try expect("{")
    let size = try number64()
    if peek() == UInt8(ascii: "+") { index += 1 }
    try expect("}")
    try lineEnd()
    return size
  }

  mutating func literalData(size: UInt64) throws -> [UInt8] {
    guard size <= UInt64(bytes.count - index) else { throw malformed("literal shorter than announced") }
    let data = Array(bytes[index..<index + Int(size)])
    index += Int(size)
    return data
  }

  /// Any value, skipped and returned as raw text: atoms, strings, literals, nested lists.
  mutating func genericValue() throws -> String {
    let start = index
    try skipValue()
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  mutating func skipValue() throws {
    guard let byte = peek() else { throw malformed("expected a value") }
    switch byte {
    case UInt8(ascii: "("):
      depth += 1
      defer { depth -= 1 }
      guard depth <= limits.maxDepth else { throw IMAPParseError.tooDeep(limit: limits.maxDepth) }
      index += 1
      var first = true
      while peek() != UInt8(ascii: ")") {
        if !first { try space() }
        first = false
        try skipValue()
      }
      index += 1
    case UInt8(ascii: "\""):
      _ = try quoted()
    case UInt8(ascii: "{"), UInt8(ascii: "~"):
      _ = try string()
    default:
      let start = index
      while let byte = peek(),
        isAtomChar(byte) || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "\\")
          || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
      {
        // Atoms here may carry sections, e.g. BODY[1]<0>.
        index += 1
      }
      guard index > start else { throw malformed("unexpected character") }
    }
  }

  /// Values to the end of the line, raw.
  mutating func rawToLineEnd() throws -> String {
    skipSpaces()
    let start = index
    while let byte = peek(), !isLineEnd(byte) {
      if byte == UInt8(ascii: " ") {
        index += 1
      } else {
        try skipValue()
      }
    }
    return String(decoding: bytes[start..<index], as: UTF8.self).trimmingSpaces()
  }

  mutating func atomsToLineEnd() throws -> [String] {
    var atoms: [String] = []
    while peek() == UInt8(ascii: " ") {
      index += 1
      if let byte = peek(), isLineEnd(byte) { break }
      atoms.append(try atom())
    }
    return atoms
  }
}
