/// How many bytes each message of a fetch may have: about the size the source listed it
/// with (IMAP RFC822.SIZE, POP3 LIST) and at most `--max-size`. A source that reads from a
/// server stops keeping a message's bytes once they pass its limit, so a server that sends
/// more than it announced cannot fill memory; the message is reported unreadable with
/// `reason(key:received:)`, and the rest of the batch goes on.
public struct MessageSizeLimits: Sendable, Equatable {
  /// Sizes the messages were listed with; 0 or missing means the source did not say.
  public var listedSizes: [UInt32: UInt64]
  /// `--max-size`, when given.
  public var maxSize: UInt64?

  /// No limit at all: every message is read whole, whatever its size.
  public static let none = MessageSizeLimits(listedSizes: [:], maxSize: nil)

  public init(listedSizes: [UInt32: UInt64], maxSize: UInt64?) {
    self.listedSizes = listedSizes
    self.maxSize = maxSize
  }

  public init(_ messages: [SourceMessage], maxSize: UInt64?) {
    self.init(
      listedSizes: Dictionary(messages.map { ($0.key, $0.size) }, uniquingKeysWith: max), maxSize: maxSize)
  }

  /// What a server may send for a message listed with `size` bytes: twice as much, or
  /// 1 MiB more for small messages. Servers count sizes their own way (Exchange's
  /// RFC822.SIZE is known to be off, conversions change line endings), and a real message
  /// must never fail for that; the bound is only against a server inflating memory without
  /// limit (200 MB sent for a message listed as 10 bytes).
  public static func tolerated(listedSize size: UInt64) -> UInt64 {
    let (doubled, overflow) = size.multipliedReportingOverflow(by: 2)
    guard !overflow else { return .max }
    let (padded, paddingOverflow) = size.addingReportingOverflow(1 << 20)
    return max(doubled, paddingOverflow ? .max : padded)
  }

  /// The most bytes message `key` may have, or nil when nothing limits it.
  public func limit(for key: UInt32) -> UInt64? {
    let announced = listedSizes[key].flatMap { $0 > 0 ? Self.tolerated(listedSize: $0) : nil }
    switch (announced, maxSize) {
    case (let announced?, let maxSize?): return min(announced, maxSize)
    case (let announced?, nil): return announced
    case (nil, let maxSize?): return maxSize
    case (nil, nil): return nil
    }
  }

  /// The most bytes any of `keys` may have (for a body that arrives before its key is
  /// known), or nil when one of them is not limited.
  public func largestLimit(of keys: some Sequence<UInt32>) -> UInt64? {
    var largest: UInt64 = 0
    for key in keys {
      guard let limit = limit(for: key) else { return nil }
      largest = max(largest, limit)
    }
    return largest
  }

  /// Why `received` bytes are too many for message `key`, or nil when they are not.
  /// `atLeast` says the count is where reading stopped, not the whole message.
  public func reason(key: UInt32, received: UInt64, atLeast: Bool = false) -> String? {
    guard let limit = limit(for: key), received > limit else { return nil }
    let sent = atLeast ? "more than \(received)" : "\(received)"
    if let maxSize, received > maxSize {
      return "the server sent \(sent) bytes for a message larger than --max-size (\(maxSize) bytes); not copied"
    }
    let listed = listedSizes[key] ?? 0
    return "the server sent \(sent) bytes for a message it listed as \(listed) bytes; not copied"
  }
}
