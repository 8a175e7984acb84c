/// Limits that keep a misbehaving POP3 server from filling memory with one reply
/// (docs/architecture.md, "Memory bounds").
public struct POP3ResponseLimits: Sendable, Equatable {
  /// Lines of one listing (CAPA, LIST, UIDL): a maildrop of up to this many messages.
  public var maxListingLines: Int
  /// Bytes of one listing line (a UIDL line is at most about 80).
  public var maxListingLineLength: Int
  /// Lines of a CAPA reply: RFC 2449 servers list about ten capabilities, and every line
  /// is kept (a million lines of 1 KiB would be a gigabyte).
  public var maxCapabilityLines: Int
  /// Bytes of the unique ids of one UIDL listing, all kept: a million ids of 32 bytes
  /// (RFC 1939 allows 70; real servers send 8 to 40).
  public var maxUniqueIDBytes: Int
  /// Bytes of a TOP reply, kept whole.
  public var maxTopBytes: Int
  /// Bytes of a message read past its limit only to keep the session in step; beyond them
  /// the reply is taken as endless and the session ends.
  public var maxSkippedBytes: UInt64

  public init(
    maxListingLines: Int = 1_000_000, maxListingLineLength: Int = 1024, maxCapabilityLines: Int = 1000,
    maxUniqueIDBytes: Int = 32 << 20, maxTopBytes: Int = 16 << 20, maxSkippedBytes: UInt64 = 4 << 30
  ) {
    self.maxListingLines = maxListingLines
    self.maxListingLineLength = maxListingLineLength
    self.maxCapabilityLines = maxCapabilityLines
    self.maxUniqueIDBytes = maxUniqueIDBytes
    self.maxTopBytes = maxTopBytes
    self.maxSkippedBytes = maxSkippedBytes
  }
}
