/// A message on its way into a store: its bytes (in memory or spooled), the flags it is to
/// have (IMAP's spelling: `\Seen`, `\Flagged`, keywords as they are) and when it was first
/// received.
public struct MessageToStore: Sendable, Equatable {
  public var body: MessageBody
  public var flags: [String]
  public var receivedDate: ReceivedDate?

  public init(body: MessageBody, flags: [String] = [], receivedDate: ReceivedDate? = nil) {
    self.body = body
    self.flags = flags
    self.receivedDate = receivedDate
  }

  public init(bytes: [UInt8], flags: [String] = [], receivedDate: ReceivedDate? = nil) {
    self.init(body: .inMemory(bytes), flags: flags, receivedDate: receivedDate)
  }
}
