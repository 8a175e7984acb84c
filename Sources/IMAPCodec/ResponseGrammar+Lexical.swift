import MailCore

/// Characters, atoms, numbers and spaces (RFC 3501 §9 core rules).
extension ResponseGrammar {

  func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

  func peekIsNil() -> Bool {
    guard index + 3 <= bytes.count else { return false }
    let word = bytes[index..<index + 3].map { $0 & 0xDF }
    guard word == Array("NIL".utf8) else { return false }
    if index + 3 == bytes.count { return true }
    return !isAtomChar(bytes[index + 3])
  }

  mutating func atom() throws -> String {
    let start = index
    while let byte = peek(), isAtomChar(byte) { index += 1 }
    guard index > start else { throw malformed("expected an atom") }
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  /// tag = 1*<any ASTRING-CHAR except "+">
  mutating func tagText() throws -> String {
    let start = index
    while let byte = peek(), isAtomChar(byte) || byte == UInt8(ascii: "]"), byte != UInt8(ascii: "+") { index += 1 }
    guard index > start else { throw malformed("expected a tag, '*' or '+'") }
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  mutating func number32() throws -> UInt32 {
    let value = try number64()
    guard value <= UInt64(UInt32.max) else { throw malformed("number too large") }
    return UInt32(value)
  }

  mutating func number64() throws -> UInt64 {
    let start = index
    var value: UInt64 = 0
    while let byte = peek(), isDigit(byte) {
      let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - 0x30))
      guard !overflow1, !overflow2 else { throw malformed("number too large") }
      value = sum
      index += 1
    }
    guard index > start else { throw malformed("expected a number") }
    return value
  }

  mutating func space() throws {
    guard peek() == UInt8(ascii: " ") else { throw malformed("expected a space") }
    index += 1
  }

  mutating func skipSpaces() {
    while peek() == UInt8(ascii: " ") { index += 1 }
  }

  mutating func expect(_ character: Character) throws {
    guard peek() == character.asciiValue else { throw malformed("expected '\(character)'") }
    index += 1
  }

  /// CRLF, or a bare LF from a lenient server.
  mutating func lineEnd() throws {
    skipTrailingSpacesBeforeLineEnd()
    if peek() == 0x0D { index += 1 }
    guard peek() == 0x0A else { throw malformed("expected the end of the line") }
    index += 1
  }

  /// Tolerates spaces before the line end, which some servers emit.
  mutating func skipTrailingSpacesBeforeLineEnd() {
    var probe = index
    while probe < bytes.count && bytes[probe] == UInt8(ascii: " ") { probe += 1 }
    if probe < bytes.count && (bytes[probe] == 0x0D || bytes[probe] == 0x0A) { index = probe }
  }

  mutating func restOfLine() -> String {
    let start = index
    while let byte = peek(), !isLineEnd(byte) { index += 1 }
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  func isLineEnd(_ byte: UInt8) -> Bool { byte == 0x0D || byte == 0x0A }
  func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  /// ATOM-CHAR: any CHAR except atom-specials ( "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]" ).
  /// 8-bit bytes are accepted: servers with UTF8=ACCEPT send them in atoms.
  func isAtomChar(_ byte: UInt8) -> Bool {
    switch byte {
    case 0...0x20, 0x7F, UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"),
      UInt8(ascii: "*"), UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "]"):
      return false
    default: return true
    }
  }

  func malformed(_ reason: String) -> IMAPParseError {
    let from = Swift.max(0, index - 40)
    let to = Swift.min(bytes.count, index + 40)
    let excerpt = bytes[from..<to].map { byte -> String in
      byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : byte == 0x0D ? "\\r" : byte == 0x0A ? "\\n" : "."
    }.joined()
    return .malformed(reason: reason, excerpt: excerpt)
  }
}

extension String {
  func trimmingSpaces() -> String {
    var text = Substring(self)
    while text.last == " " { text = text.dropLast() }
    return String(text)
  }
}
