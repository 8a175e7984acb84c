import MailCore
import Mailstore
import SMTPCodec

#if canImport(Glibc)
  import Glibc
#endif

/// Injection by SMTP or LMTP as a `MessageSink`: every message is sent, unchanged, to the
/// same recipients, whatever folder it comes from. A delivery cannot be looked up
/// afterwards, so the engine records each message before and after its own transaction
/// (`isSearchable` is false) and trusts the server's acknowledgement as the confirmation.
public final class SMTPSink: MessageSink, @unchecked Sendable {
  /// Where the envelope sender comes from.
  public enum Sender: Sendable, Equatable {
    /// `--mail-from ADDRESS`.
    case fixed(String)
    /// The message's Return-Path; messages without one are refused unless `orNull`, which
    /// sends them with the null sender `<>`. A Return-Path that is no usable address (it
    /// would inject into the MAIL command) is replaced by `<>`, with a note in the report.
    case returnPath(orNull: Bool)
  }

  public let client: SMTPClient
  public let recipients: [String]
  public let sender: Sender
  /// Pauses before retrying recipients that got a 4xx; one retry per entry.
  public let retryDelays: [Duration]

  public init(_ client: SMTPClient, recipients: [String], sender: Sender, retryDelays: [Duration]) {
    self.client = client
    self.recipients = recipients
    self.sender = sender
    self.retryDelays = retryDelays
  }

  public var isSearchable: Bool { false }
  public var sizeLimit: UInt64? { client.extensions.sizeLimit.flatMap { $0 > 0 ? UInt64($0) : nil } }

  /// One delivery target; source folders are all delivered to the recipients.
  public func folders() throws -> [FolderDescriptor] { [] }
  public func separator() throws -> Character? { "/" }
  public func personalPrefix() throws -> String { "" }

  public func open(_ folder: String, forWriting: Bool) throws -> SinkFolderState? {
    SinkFolderState(validity: nil, count: 0, permanentFlags: nil)
  }

  /// Nothing can be read back from a delivery.
  public func inventory(skipping known: Set<UInt32>, visit: (StoredMessage) throws -> Void) throws {}

  public func store(_ messages: [MessageToStore]) throws -> [StoreOutcome] {
    try messages.map { try deliver($0.body) }
  }

  /// Sends one message, retrying recipients that got a 4xx after the configured pauses.
  /// Delivered to every recipient: stored. To some: stored, with the others' refusals.
  /// To none: refused, with the servers' words (a later run tries again).
  private func deliver(_ body: MessageBody) throws -> StoreOutcome {
    let from: String
    var note: String?
    switch sender {
    case .fixed(let address): from = address
    case .returnPath(let orNull):
      let field = MessageHeader.field("Return-Path", in: body.headerBytes)
      if let field, let path = EnvelopeAddress.fromReturnPath(field) {
        from = path
      } else if let field {
        // From the message, so untrusted: never put into the MAIL command as it is. The
        // message goes from the null sender instead, and the report says so.
        from = ""
        note =
          "its Return-Path \(Self.shown(field)) is not a usable envelope sender; sent from the null sender <> "
          + "(--mail-from ADDRESS chooses another)"
      } else if orNull {
        from = ""
      } else {
        return .refused(
          StoreRefusal(
            reason: "the message has no Return-Path to use as the envelope sender", isTemporary: false,
            hint: "give --mail-from ADDRESS, or --null-sender"))
      }
    }
    var pending = recipients
    var delivered: [String] = []
    var final: [(recipient: String, reply: SMTPReply)] = []
    for attempt in 0...retryDelays.count {
      if attempt > 0 { pause(retryDelays[attempt - 1]) }
      let delivery = try client.send(body, from: from, to: pending)
      delivered += delivery.delivered
      final += delivery.permanentFailures
      pending = delivery.transientFailures
      if pending.isEmpty { break }
      if attempt == retryDelays.count {
        final += delivery.replies.filter { $0.reply.isTransient }
      }
    }
    let refusals = final.map { "\($0.recipient): \($0.reply)" }
    if delivered.isEmpty {
      // Temporary only when every recipient got a 4xx: a later run may get through.
      let temporary = !final.isEmpty && final.allSatisfy { $0.reply.isTransient }
      return .refused(StoreRefusal(reason: refusals.joined(separator: "; "), isTemporary: temporary))
    }
    if !refusals.isEmpty { return .partlyStored(id: nil, refusals: refusals) }
    return note.map { .storedWithNote(id: nil, note: $0) } ?? .stored(id: nil)
  }

  /// A header value for a report: quoted, control characters escaped, at most 80 characters.
  static func shown(_ value: String) -> String {
    let escaped = value.unicodeScalars.map { scalar in
      scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
        ? "\\x" + String(scalar.value, radix: 16, uppercase: true) : String(scalar)
    }.joined()
    return "'" + (escaped.count > 80 ? escaped.prefix(80) + "…" : escaped) + "'"
  }

  public func flags(of ids: [UInt32]) throws -> [UInt32: [String]] { [:] }
  public func setFlags(_ changes: [(id: UInt32, flags: [String])]) throws {}

  public func close() { client.quit() }
  public func abandon() { client.close() }
}

extension String {
  fileprivate func trimmingCharacters(in set: String) -> String {
    String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
  }
}

private func pause(_ duration: Duration) {
  let (seconds, attoseconds) = duration.components
  var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
  var remaining = timespec()
  while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
