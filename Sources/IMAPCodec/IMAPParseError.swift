import MailCore

/// Why bytes from a server could not be read as IMAP. Always typed, never a crash: a
/// malformed or hostile reply ends the connection with one of these.
public enum IMAPParseError: UserFacingError, Equatable, Sendable {
  /// The bytes break the grammar; `excerpt` shows where (printable, at most 80 bytes).
  case malformed(reason: String, excerpt: String)
  /// A response line (without its literals) exceeded the limit.
  case lineTooLong(limit: Int)
  /// A literal was announced larger than the limit for its kind.
  case literalTooLarge(size: UInt64, limit: UInt64)
  /// One response's text and in-memory literals together exceeded the budget.
  case responseTooLarge(limit: Int)
  /// Lists nested deeper than the limit.
  case tooDeep(limit: Int)

  public var description: String {
    switch self {
    case .malformed(let reason, let excerpt): return "malformed IMAP response (\(reason)) near \"\(excerpt)\""
    case .lineTooLong(let limit): return "IMAP response line longer than \(limit) bytes"
    case .literalTooLarge(let size, let limit): return "IMAP literal of \(size) bytes exceeds the limit of \(limit)"
    case .responseTooLarge(let limit):
      return "IMAP response larger than \(limit) bytes (its text and literals together, message bodies aside)"
    case .tooDeep(let limit): return "IMAP response nested deeper than \(limit) levels"
    }
  }

  public var hint: String? { "run with --trace FILE and report the server's reply" }
  /// The session cannot go on once the server's bytes broke the protocol.
  public var scope: FailureScope { .connection }
  public var isTemporary: Bool { false }
  /// A reply that does not parse comes from a server that speaks something else.
  public var kind: FailureKind { .serverUnavailable }
}

/// Limits that keep a misbehaving server from exhausting memory or stack.
public struct IMAPParserLimits: Sendable, Equatable {
  /// Bytes of response text held for one response, literals held in memory excluded.
  public var maxLineLength: Int
  /// Bytes held for one response: its text and its in-memory literals together (streamed
  /// body sections excluded). Without it, a server could send hundreds of literals that are
  /// each under `maxInMemoryLiteral`.
  public var maxResponseBytes: Int
  /// Largest literal held in memory (mailbox names, strings inside ENVELOPE, …).
  public var maxInMemoryLiteral: UInt64
  /// Largest streamed body literal (a message).
  public var maxStreamedLiteral: UInt64
  /// Deepest nesting of parenthesised lists.
  public var maxDepth: Int

  /// The defaults (docs/architecture.md, "Memory bounds"): 8 MiB of text and literals per
  /// response fits a SEARCH answer of about 900,000 UIDs from a server without ESEARCH;
  /// a LIST answers one response per folder, and a BODYSTRUCTURE of a thousand parts is
  /// about 200 KB.
  public init(
    maxLineLength: Int = 8 << 20, maxResponseBytes: Int = 8 << 20, maxInMemoryLiteral: UInt64 = 1 << 20,
    maxStreamedLiteral: UInt64 = 4 << 30, maxDepth: Int = 48
  ) {
    self.maxLineLength = maxLineLength
    self.maxResponseBytes = maxResponseBytes
    self.maxInMemoryLiteral = maxInMemoryLiteral
    self.maxStreamedLiteral = maxStreamedLiteral
    self.maxDepth = maxDepth
  }
}
