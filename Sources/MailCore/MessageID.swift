/// A Message-ID normalised for comparison (dedup): surrounding whitespace, comments and
/// angle brackets removed, the domain part lowercased. The local part keeps its case:
/// RFC 5322 makes it case-sensitive, and folding it could merge different messages.
public struct MessageID: Hashable, Sendable, CustomStringConvertible {
  public let normalized: String

  /// Normalises a Message-ID field value; nil when there is nothing usable in it.
  public init?(fieldValue: String) {
    var text = Substring(fieldValue)
    // Prefer the first <...> token: it skips comments and any second id.
    if let open = text.firstIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
      text = text[text.index(after: open)..<close]
    }
    let trimmed = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).joined()
    guard !trimmed.isEmpty else { return nil }
    if let at = trimmed.lastIndex(of: "@") {
      normalized = trimmed[..<at] + "@" + trimmed[trimmed.index(after: at)...].lowercased()
    } else {
      normalized = trimmed
    }
  }

  /// The Message-ID of a message (its first Message-ID header field), normalised.
  public init?(message: [UInt8]) {
    guard let value = MessageHeader.field("Message-ID", in: message) else { return nil }
    self.init(fieldValue: value)
  }

  public var description: String { "<\(normalized)>" }
}
