import MailCore

/// A complete SMTP or LMTP reply (RFC 5321 §4.2): a three-digit code and one or more text
/// lines (`250-…` continues, `250 …` ends), with the RFC 3463 enhanced status code when the
/// server gives one.
public struct SMTPReply: Equatable, Sendable, CustomStringConvertible {
  public var code: Int
  public var enhancedCode: String?
  public var lines: [String]

  public init(code: Int, enhancedCode: String? = nil, lines: [String]) {
    self.code = code
    self.enhancedCode = enhancedCode
    self.lines = lines
  }

  public var isPositive: Bool { (200..<400).contains(code) }
  public var isTransient: Bool { (400..<500).contains(code) }
  public var isPermanent: Bool { code >= 500 }
  /// The server asks this client to slow down or come back later: 421 (closing), 451
  /// (local error, "Server busy"), 452 (insufficient resources, "too many messages"), or
  /// any 4xx with an RFC 3463 security/policy code `4.7.x` ("4.7.0 Too many connections").
  public var isThrottling: Bool {
    guard isTransient else { return false }
    return code == 421 || code == 451 || code == 452 || (enhancedCode?.hasPrefix("4.7.") ?? false)
  }
  /// The text of all lines, joined, for messages.
  public var text: String { lines.joined(separator: " ") }
  public var description: String { "\(code) \(enhancedCode.map { "\($0) " } ?? "")\(text)" }
}

/// Collects reply lines until a reply is complete. Feed it lines without their line
/// endings; it returns the reply after its last line.
public struct SMTPReplyReader: Sendable {
  private var code: Int?
  private var lines: [String] = []
  private var enhancedCode: String?
  public static let maxLines = 1000

  public init() {}

  public mutating func feed(_ line: [UInt8]) throws(SMTPParseError) -> SMTPReply? {
    let text = String(decoding: line, as: UTF8.self)
    let characters = Array(text.utf8)
    guard characters.count >= 3, characters[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
      let value = Int(String(decoding: characters[0...2], as: UTF8.self)), (100...599).contains(value)
    else { throw SMTPParseError.malformedReply(excerpt: SMTPParseError.excerpt(text)) }
    if let code, code != value { throw SMTPParseError.inconsistentCodes(first: code, then: value) }
    let separator = characters.count > 3 ? characters[3] : 0x20
    guard separator == 0x20 || separator == UInt8(ascii: "-") else {
      throw SMTPParseError.malformedReply(excerpt: SMTPParseError.excerpt(text))
    }
    code = value
    var rest = characters.count > 4 ? String(decoding: characters[4...], as: UTF8.self) : ""
    if lines.isEmpty, let enhanced = Self.enhancedCode(in: rest, for: value) {
      enhancedCode = enhanced
      rest = String(rest.dropFirst(enhanced.count).drop { $0 == " " })
    }
    lines.append(rest)
    guard lines.count <= Self.maxLines else { throw SMTPParseError.tooManyLines(limit: Self.maxLines) }
    guard separator == 0x20 else { return nil }
    defer { self = SMTPReplyReader() }
    return SMTPReply(code: value, enhancedCode: enhancedCode, lines: lines)
  }

  /// `2.1.5`-style code at the start of the text whose class matches the reply's.
  static func enhancedCode(in text: String, for code: Int) -> String? {
    guard let word = text.split(separator: " ", maxSplits: 1).first else { return nil }
    let parts = word.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }),
      parts[0] == "\(code / 100)"
    else { return nil }
    return String(word)
  }
}

/// Malformed SMTP input: the server broke the protocol.
public enum SMTPParseError: UserFacingError, Equatable, Sendable {
  case malformedReply(excerpt: String)
  case inconsistentCodes(first: Int, then: Int)
  case tooManyLines(limit: Int)

  public var description: String {
    switch self {
    case .malformedReply(let excerpt): return "malformed reply \"\(excerpt)\""
    case .inconsistentCodes(let first, let then): return "a multi-line reply changed its code from \(first) to \(then)"
    case .tooManyLines(let limit): return "a reply longer than \(limit) lines"
    }
  }

  public var hint: String? { "run with --trace FILE and report the server's reply" }
  /// The session cannot go on once the server's bytes broke the protocol.
  public var scope: FailureScope { .connection }
  public var isTemporary: Bool { false }
  /// A reply that does not parse comes from a server that speaks something else.
  public var kind: FailureKind { .serverUnavailable }

  static func excerpt(_ text: String) -> String {
    let printable = String(text.prefix(60).map { $0.isASCII && !$0.isNewline && $0 != "\u{0}" ? $0 : "?" })
    return text.count > 60 ? printable + "…" : printable
  }
}
