/// A message on its way into a store: its exact bytes, the flags it is to have (IMAP's
/// spelling: `\Seen`, `\Flagged`, keywords as they are) and when it was first received.
public struct MessageToStore: Sendable, Equatable {
  public var bytes: [UInt8]
  public var flags: [String]
  public var receivedDate: ReceivedDate?

  public init(bytes: [UInt8], flags: [String] = [], receivedDate: ReceivedDate? = nil) {
    self.bytes = bytes
    self.flags = flags
    self.receivedDate = receivedDate
  }
}
