/// A message on its way into a store: its bytes (in memory or spooled), the flags it is to
/// have (IMAP's spelling: `\Seen`, `\Flagged`, keywords as they are) and when it was first
/// received.
public struct MessageToStore: Sendable, Equatable {
  public var body: MessageBody
  public var flags: [String]
  public var receivedDate: ReceivedDate?
  /// The body's `contentHash` when the sender has worked it out already (the engine hashes
  /// every message to deduplicate it), so a store that keys by it does not hash it again.
  public var contentHash: SHA256Digest?

  public init(
    body: MessageBody, flags: [String] = [], receivedDate: ReceivedDate? = nil, contentHash: SHA256Digest? = nil
  ) {
    self.body = body
    self.flags = flags
    self.receivedDate = receivedDate
    self.contentHash = contentHash
  }

  public init(bytes: [UInt8], flags: [String] = [], receivedDate: ReceivedDate? = nil) {
    self.init(body: .inMemory(bytes), flags: flags, receivedDate: receivedDate)
  }
}
