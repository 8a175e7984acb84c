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
  var index = 0
  var depth = 0

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
  mutating func untagged() throws -> UntaggedResponse {
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
  mutating func statusBody(_ kind: ResponseStatus.Kind) throws -> ResponseStatus {
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
  mutating func responseCode() throws -> ResponseCode {
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
}
