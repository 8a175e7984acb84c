import MailCore

/// Malformed POP3 input: the server broke the protocol. Never includes message data beyond a
/// short excerpt of the offending line.
public enum POP3ParseError: UserFacingError, Equatable, Sendable {
  case notAStatusLine(excerpt: String)
  case malformedListing(excerpt: String)
  case malformedCount(excerpt: String)
  /// A listing went past a limit (`limit` names it: "1000000 lines", …).
  case listingTooLarge(limit: String)
  /// A reply that is read past its limit went on beyond `limit` bytes.
  case replyTooLarge(limit: UInt64)

  public var description: String {
    switch self {
    case .notAStatusLine(let excerpt): return "expected +OK or -ERR, got \"\(excerpt)\""
    case .malformedListing(let excerpt): return "malformed listing line \"\(excerpt)\""
    case .malformedCount(let excerpt): return "malformed message count \"\(excerpt)\""
    case .listingTooLarge(let limit): return "POP3 listing longer than MailFerry reads (at most \(limit))"
    case .replyTooLarge(let limit): return "POP3 reply longer than \(limit) bytes"
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
