import MailCore

/// The header fields the catalog keeps for searching: Message-ID, Subject and the From
/// address.
struct HeaderSummary {
  var messageID: String?
  var subject: String?
  var from: String?

  init(_ message: [UInt8]) {
    messageID = MessageID(message: message)?.normalized
    subject = MessageHeader.field("Subject", in: message)
    from = MessageHeader.field("From", in: message).map(Self.address)
  }

  /// The address in `Name <a@b>` or a bare `a@b`, lower-cased; else the whole value.
  static func address(_ value: String) -> String {
    MessageHeader.address(in: value).map { $0.lowercased() } ?? value
  }
}
