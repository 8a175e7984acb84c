import MailCore

/// Malformed POP3 input: the server broke the protocol. Never includes message data beyond a
/// short excerpt of the offending line.
public enum POP3ParseError: UserFacingError, Equatable, Sendable {
  case notAStatusLine(excerpt: String)
  case malformedListing(excerpt: String)
  case malformedCount(excerpt: String)

  public var description: String {
    switch self {
    case .notAStatusLine(let excerpt): return "expected +OK or -ERR, got \"\(excerpt)\""
    case .malformedListing(let excerpt): return "malformed listing line \"\(excerpt)\""
    case .malformedCount(let excerpt): return "malformed message count \"\(excerpt)\""
    }
  }

  public var hint: String? { "run with --trace FILE and report the server's reply" }
  /// The session cannot go on once the server's bytes broke the protocol.
  public var scope: FailureScope { .connection }
  public var isTemporary: Bool { false }

  static func excerpt(_ text: String) -> String {
    let printable = String(text.prefix(60).map { $0.isASCII && !$0.isNewline && $0 != "\u{0}" ? $0 : "?" })
    return text.count > 60 ? printable + "…" : printable
  }
}
