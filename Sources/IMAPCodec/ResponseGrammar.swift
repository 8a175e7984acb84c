import MailCore

/// Recursive-descent parser for one complete IMAP response held in memory (RFC 3501 §9,
/// RFC 9051 §9 and the extensions MailFerry uses). Streamed body literals are not in
/// `bytes`: `streamed` maps the offset where their data would start to their size.
///
/// In `partial` mode the input ends right after a streamed literal inside a FETCH
/// response, and parsing stops there with what came before it.
struct ResponseGrammar {
  struct StreamedLiteral: Equatable {
    let size: UInt64
    let binary: Bool
  }

  /// Internal outcomes that are not errors of the server.
  enum Interruption: Error {
    /// Partial mode reached the streamed literal: the FETCH so far.
    case reachedStream(BodyStreamStart)
    /// A literal marked as streamed turned out not to be a body section.
    case streamedOutsideBody
  }

  let bytes: [UInt8]
  let streamed: [Int: StreamedLiteral]
  let limits: IMAPParserLimits
  let partial: Bool
  private(set) var index = 0
  private var depth = 0

  init(bytes: [UInt8], streamed: [Int: StreamedLiteral], limits: IMAPParserLimits, partial: Bool = false) {
    self.bytes = bytes
    self.streamed = streamed
    self.limits = limits
    self.partial = partial
  }

  // MARK: Responses

  /// response = continue-req / response-data / response-tagged
  mutating func parseResponse() throws -> Response {
    let response: Response
    switch peek() {
    case UInt8(ascii: "+"):
      index += 1
      skipSpaces()
      response = .continuation(text: restOfLine())
    case UInt8(ascii: "*"):
      index += 1
      try space()
      response = .untagged(try untagged())
    default:
      let tag = try tagText()
      try space()
      let name = try atom().uppercased()
      guard let kind = ResponseStatus.Kind(rawValue: name), kind == .ok || kind == .no || kind == .bad else {
        throw malformed("expected OK, NO or BAD after the tag")
      }
      response = .tagged(tag: tag, status: try statusBody(kind))
    }
    try lineEnd()
    guard index == bytes.count else { throw malformed("bytes after the end of the response") }
    return response
  }

  /// response-data after `* `.
  private mutating func untagged() throws -> UntaggedResponse {
    if let byte = peek(), isDigit(byte) {
      let number = try number32()
      try space()
      let name = try atom().uppercased()
      switch name {
      case "EXISTS": return .exists(number)
      case "RECENT": return .recent(number)
      case "EXPUNGE": return .expunge(number)
      case "FETCH":
        try space()
        return .fetch(FetchResponse(sequenceNumber: number, attributes: try fetchAttributes(number)))
      default: throw malformed("unknown message data \(name)")
      }
    }
    let name = try atom().uppercased()
    if let kind = ResponseStatus.Kind(rawValue: name) { return .status(try statusBody(kind)) }
    switch name {
    case "CAPABILITY": return .capability(try atomsToLineEnd())
    case "ENABLED": return .enabled(try atomsToLineEnd())
    case "FLAGS":
      try space()
      return .flags(try flagList())
    case "LIST", "XLIST":
      try space()
      return .list(try mailboxListing())
    case "LSUB":
      try space()
      return .lsub(try mailboxListing())
    case "STATUS":
      try space()
      return try mailboxStatus()
    case "SEARCH": return try search()
    case "ESEARCH": return .esearch(try esearch())
    case "VANISHED":
      try space()
      var earlier = false
      if peek() == UInt8(ascii: "(") {
        index += 1
        guard try atom().uppercased() == "EARLIER" else { throw malformed("expected (EARLIER)") }
        try expect(")")
        try space()
        earlier = true
      }
      return .vanished(earlier: earlier, uids: try uidSet())
    case "NAMESPACE":
      try space()
      return .namespace(try namespace())
    case "ID":
      try space()
      return .id(try idParameters())
    default:
      return .other(name: name, text: try rawToLineEnd())
    }
  }

  /// resp-cond-state / resp-cond-bye: the part after OK/NO/BAD/BYE/PREAUTH.
  private mutating func statusBody(_ kind: ResponseStatus.Kind) throws -> ResponseStatus {
    // Some servers send `* OK` or `a OK` with nothing after it.
    guard peek() == UInt8(ascii: " ") else { return ResponseStatus(kind: kind, text: "") }
    index += 1
    var code: ResponseCode?
    if peek() == UInt8(ascii: "[") {
      index += 1
      code = try responseCode()
      if peek() == UInt8(ascii: " ") { index += 1 }
    }
    return ResponseStatus(kind: kind, code: code, text: restOfLine())
  }

  /// resp-text-code, after "[" up to and including "]".
  private mutating func responseCode() throws -> ResponseCode {
    let name = try atom().uppercased()
    let code: ResponseCode
    switch name {
    case "ALERT": code = .alert
    case "PARSE": code = .parse
    case "READ-ONLY": code = .readOnly
    case "READ-WRITE": code = .readWrite
    case "TRYCREATE": code = .tryCreate
    case "NOMODSEQ": code = .noModSeq
    case "OVERQUOTA": code = .overQuota
    case "LIMIT": code = .limit
    case "CLOSED": code = .closed
    case "CAPABILITY":
      var capabilities: [String] = []
      while peek() == UInt8(ascii: " ") {
        index += 1
        capabilities.append(try atom())
      }
      code = .capability(capabilities)
    case "UIDVALIDITY", "UIDNEXT", "UNSEEN":
      try space()
      let value = try number32()
      code = name == "UIDVALIDITY" ? .uidValidity(value) : name == "UIDNEXT" ? .uidNext(value) : .unseen(value)
    case "HIGHESTMODSEQ":
      try space()
      code = .highestModSeq(try number64())
    case "APPENDUID":
      try space()
      let validity = try number32()
      try space()
      code = .appendUID(uidValidity: validity, uids: try uidSet())
    case "COPYUID":
      try space()
      let validity = try number32()
      try space()
      let source = try uidSet()
      try space()
      code = .copyUID(uidValidity: validity, source: source, destination: try uidSet())
    case "PERMANENTFLAGS":
      try space()
      code = .permanentFlags(try flagList())
    default:
      var text: String?
      if peek() == UInt8(ascii: " ") {
        index += 1
        let start = index
        while let byte = peek(), byte != UInt8(ascii: "]"), !isLineEnd(byte) { index += 1 }
        text = String(decoding: bytes[start..<index], as: UTF8.self)
      }
      code = .other(name: name, text: text)
    }
    try expect("]")
    return code
  }

  /// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
  ///                [SP mbox-list-extended]
  private mutating func mailboxListing() throws -> MailboxListing {
    let attributes = try flagList()
    try space()
    var separator: Character?
    if peekIsNil() {
      index += 3
    } else {
      let raw = try quoted()
      guard raw.count == 1 else { throw malformed("hierarchy separator must be one character") }
      separator = Character(UnicodeScalar(raw[0]))
    }
    try space()
    let name = MailboxName(raw: try astring())
    var extended: [String] = []
    while peek() == UInt8(ascii: " ") {
      index += 1
      extended.append(try genericValue())
    }
    return MailboxListing(attributes: attributes, separator: separator, name: name, extendedItems: extended)
  }

  /// STATUS mailbox SP "(" [status-att-val *(SP status-att-val)] ")"
  private mutating func mailboxStatus() throws -> UntaggedResponse {
    let name = MailboxName(raw: try astring())
    try space()
    try expect("(")
    var items: [String: UInt64] = [:]
    while peek() != UInt8(ascii: ")") {
      if !items.isEmpty { try space() }
      let item = try atom().uppercased()
      try space()
      items[item] = try number64()
    }
    index += 1
    // Some servers leave a space before the line end.
    skipSpaces()
    return .mailboxStatus(mailbox: name, items: items)
  }

  /// "SEARCH" *(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]
  private mutating func search() throws -> UntaggedResponse {
    var ids: [UInt32] = []
    var modSeq: UInt64?
    while peek() == UInt8(ascii: " ") {
      index += 1
      if peek() == UInt8(ascii: "(") {
        index += 1
        guard try atom().uppercased() == "MODSEQ" else { throw malformed("expected MODSEQ") }
        try space()
        modSeq = try number64()
        try expect(")")
      } else if let byte = peek(), isDigit(byte) {
        ids.append(try number32())
      } else {
        break  // a trailing space before CRLF
      }
    }
    return .search(ids: ids, modSeq: modSeq)
  }

  /// esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
  private mutating func esearch() throws -> ESearchResponse {
    var result = ESearchResponse()
    while peek() == UInt8(ascii: " ") {
      index += 1
      if peek() == UInt8(ascii: "(") {
        index += 1
        guard try atom().uppercased() == "TAG" else { throw malformed("expected TAG") }
        try space()
        result.tag = String(decoding: try string(), as: UTF8.self)
        try expect(")")
        continue
      }
      let name = try atom().uppercased()
      if name == "UID" {
        result.uid = true
        continue
      }
      try space()
      switch name {
      case "ALL": result.all = try uidSet()
      case "MIN": result.min = try number32()
      case "MAX": result.max = try number32()
      case "COUNT": result.count = try number32()
      case "MODSEQ": result.modSeq = try number64()
      default: _ = try genericValue()
      }
    }
    return result
  }

  /// namespace-response = "NAMESPACE" SP namespace SP namespace SP namespace
  private mutating func namespace() throws -> NamespaceResponse {
    var groups: [[NamespaceResponse.Namespace]] = []
    for position in 0..<3 {
      if position > 0 { try space() }
      if peekIsNil() {
        index += 3
        groups.append([])
        continue
      }
      try expect("(")
      var group: [NamespaceResponse.Namespace] = []
      while peek() == UInt8(ascii: "(") {
        index += 1
        let prefix = String(decoding: try string(), as: UTF8.self)
        try space()
        var separator: Character?
        if peekIsNil() {
          index += 3
        } else {
          let raw = try quoted()
          separator = raw.first.map { Character(UnicodeScalar($0)) }
        }
        // Namespace response extensions: skip.
        while peek() == UInt8(ascii: " ") {
          index += 1
          _ = try genericValue()
        }
        try expect(")")
        group.append(.init(prefix: prefix, separator: separator))
      }
      try expect(")")
      groups.append(group)
    }
    return NamespaceResponse(personal: groups[0], otherUsers: groups[1], shared: groups[2])
  }

  /// id-params-list = "(" *(string SP nstring) ")" / nil
  private mutating func idParameters() throws -> [String: String] {
    if peekIsNil() {
      index += 3
      return [:]
    }
    try expect("(")
    var result: [String: String] = [:]
    while peek() != UInt8(ascii: ")") {
      if !result.isEmpty { try space() }
      let key = String(decoding: try string(), as: UTF8.self)
      try space()
      let value = try nstring()
      result[key] = value.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
    index += 1
    return result
  }

  // MARK: FETCH

  /// msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP …) ")"
  private mutating func fetchAttributes(_ sequenceNumber: UInt32) throws -> [FetchAttribute] {
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

  private mutating func fetchAttribute() throws -> FetchAttribute {
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
    case "RFC822": return try bodyValue(section: "", origin: nil)
    case "RFC822.HEADER": return try bodyValue(section: "HEADER", origin: nil)
    case "RFC822.TEXT": return try bodyValue(section: "TEXT", origin: nil)
    default: return .other(name: name, value: try genericValue())
    }
  }

  /// `[section]`: the text between the brackets, kept as written (uppercased).
  private mutating func sectionText() throws -> String {
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
  private mutating func bodyValue(section: String, origin: UInt32?) throws -> FetchAttribute {
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

  // MARK: Values

  /// flag-list = "(" [flag *(SP flag)] ")"; also used for LIST attributes.
  private mutating func flagList() throws -> [String] {
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
  private mutating func uidSet() throws -> UIDSet {
    let start = index
    while let byte = peek(), isDigit(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ",") { index += 1 }
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    guard let set = UIDSet(parsing: text) else { throw malformed("bad UID set \"\(text)\"") }
    return set
  }

  /// astring = 1*ASTRING-CHAR / string
  private mutating func astring() throws -> [UInt8] {
    if let byte = peek(), byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "~") {
      return try string()
    }
    let start = index
    while let byte = peek(), isAtomChar(byte) || byte == UInt8(ascii: "]") { index += 1 }
    guard index > start else { throw malformed("expected a string") }
    return Array(bytes[start..<index])
  }

  /// nstring = string / nil
  private mutating func nstring() throws -> [UInt8]? {
    if peekIsNil() {
      index += 3
      return nil
    }
    return try string()
  }

  /// string = quoted / literal (held in memory)
  private mutating func string() throws -> [UInt8] {
    if peek() == UInt8(ascii: "\"") { return try quoted() }
    let size = try literalMarker()
    if streamed[index] != nil { throw Interruption.streamedOutsideBody }
    return try literalData(size: size)
  }

  /// quoted = DQUOTE *QUOTED-CHAR DQUOTE, with `\"` and `\\` escapes.
  private mutating func quoted() throws -> [UInt8] {
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
  private mutating func literalMarker() throws -> UInt64 {
    if peek() == UInt8(ascii: "~") { index += 1 }
    try expect("{")
    let size = try number64()
    if peek() == UInt8(ascii: "+") { index += 1 }
    try expect("}")
    try lineEnd()
    return size
  }

  private mutating func literalData(size: UInt64) throws -> [UInt8] {
    guard size <= UInt64(bytes.count - index) else { throw malformed("literal shorter than announced") }
    let data = Array(bytes[index..<index + Int(size)])
    index += Int(size)
    return data
  }

  /// Any value, skipped and returned as raw text: atoms, strings, literals, nested lists.
  private mutating func genericValue() throws -> String {
    let start = index
    try skipValue()
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  private mutating func skipValue() throws {
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
  private mutating func rawToLineEnd() throws -> String {
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

  private mutating func atomsToLineEnd() throws -> [String] {
    var atoms: [String] = []
    while peek() == UInt8(ascii: " ") {
      index += 1
      if let byte = peek(), isLineEnd(byte) { break }
      atoms.append(try atom())
    }
    return atoms
  }

  // MARK: Lexical

  private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

  private func peekIsNil() -> Bool {
    guard index + 3 <= bytes.count else { return false }
    let word = bytes[index..<index + 3].map { $0 & 0xDF }
    guard word == Array("NIL".utf8) else { return false }
    if index + 3 == bytes.count { return true }
    return !isAtomChar(bytes[index + 3])
  }

  private mutating func atom() throws -> String {
    let start = index
    while let byte = peek(), isAtomChar(byte) { index += 1 }
    guard index > start else { throw malformed("expected an atom") }
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  /// tag = 1*<any ASTRING-CHAR except "+">
  private mutating func tagText() throws -> String {
    let start = index
    while let byte = peek(), isAtomChar(byte) || byte == UInt8(ascii: "]"), byte != UInt8(ascii: "+") { index += 1 }
    guard index > start else { throw malformed("expected a tag, '*' or '+'") }
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  private mutating func number32() throws -> UInt32 {
    let value = try number64()
    guard value <= UInt64(UInt32.max) else { throw malformed("number too large") }
    return UInt32(value)
  }

  private mutating func number64() throws -> UInt64 {
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

  private mutating func space() throws {
    guard peek() == UInt8(ascii: " ") else { throw malformed("expected a space") }
    index += 1
  }

  private mutating func skipSpaces() {
    while peek() == UInt8(ascii: " ") { index += 1 }
  }

  private mutating func expect(_ character: Character) throws {
    guard peek() == character.asciiValue else { throw malformed("expected '\(character)'") }
    index += 1
  }

  /// CRLF, or a bare LF from a lenient server.
  private mutating func lineEnd() throws {
    skipTrailingSpacesBeforeLineEnd()
    if peek() == 0x0D { index += 1 }
    guard peek() == 0x0A else { throw malformed("expected the end of the line") }
    index += 1
  }

  /// Tolerates spaces before the line end, which some servers emit.
  private mutating func skipTrailingSpacesBeforeLineEnd() {
    var probe = index
    while probe < bytes.count && bytes[probe] == UInt8(ascii: " ") { probe += 1 }
    if probe < bytes.count && (bytes[probe] == 0x0D || bytes[probe] == 0x0A) { index = probe }
  }

  private mutating func restOfLine() -> String {
    let start = index
    while let byte = peek(), !isLineEnd(byte) { index += 1 }
    return String(decoding: bytes[start..<index], as: UTF8.self)
  }

  private func isLineEnd(_ byte: UInt8) -> Bool { byte == 0x0D || byte == 0x0A }
  private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

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

  private func malformed(_ reason: String) -> IMAPParseError {
    let from = Swift.max(0, index - 40)
    let to = Swift.min(bytes.count, index + 40)
    let excerpt = bytes[from..<to].map { byte -> String in
      byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : byte == 0x0D ? "\\r" : byte == 0x0A ? "\\n" : "."
    }.joined()
    return .malformed(reason: reason, excerpt: excerpt)
  }
}

extension String {
  fileprivate func trimmingSpaces() -> String {
    var text = Substring(self)
    while text.last == " " { text = text.dropLast() }
    return String(text)
  }
}
