import IMAPCodec
import MailCore

/// Where a job's messages go: an IMAP account, later an archive, SMTP/LMTP or a Maildir.
/// One instance is one session, owned by one thread at a time; the engine opens one folder
/// at a time and stores messages in batches.
public protocol MessageSink: AnyObject, Sendable {
  /// The folders the sink has now.
  func folders() throws -> [FolderDescriptor]

  /// The hierarchy separator new folders get.
  func separator() throws -> Character?

  /// The prefix of the personal namespace, which new folders go under (`INBOX.` on
  /// Courier-style servers, else empty).
  func personalPrefix() throws -> String

  /// Opens `folder`. For writing, it is created with its parents when missing; otherwise
  /// (a dry run) nothing changes and nil means it does not exist yet.
  func open(_ folder: String, forWriting: Bool) throws -> SinkFolderState?

  /// Reads and hashes every message of the open folder whose id is not in `known`, so the
  /// engine can match messages it did not put there (or whose id it never learnt).
  func inventory(skipping known: Set<UInt32>, visit: (StoredMessage) throws -> Void) throws

  /// Stores a batch in the open folder. One outcome per message, in order; a refusal is an
  /// outcome, a lost connection throws.
  func store(_ messages: [AppendMessage]) throws -> [StoreOutcome]

  /// `store`, told where each message came from (an archive records it; others ignore it).
  func store(_ messages: [AppendMessage], origins: [MessageOrigin]) throws -> [StoreOutcome]

  /// Tells the sink the special use of the source folder that goes to `folder`, before it is
  /// opened (an archive keeps it for restores; servers have their own).
  func noteSpecialUse(_ specialUse: String, of folder: String) throws

  /// Whether the sink wants to hear which source messages are still there after each folder
  /// (an archive's "last seen").
  var recordsSourcePresence: Bool { get }

  /// The source messages of `folder` (in `account`, at `validity`) that the source still holds.
  func noteSourcePresence(account: String, folder: String, validity: UInt32, keys: [UInt32]) throws

  /// Sizes of the messages with these ids that are present, to confirm copies before the
  /// source is deleted.
  func sizes(of ids: [UInt32]) throws -> [UInt32: UInt64]

  /// Current flags of the messages with these ids that are present.
  func flags(of ids: [UInt32]) throws -> [UInt32: [String]]

  /// Replaces the flags of these messages.
  func setFlags(_ changes: [(id: UInt32, flags: [String])]) throws

  /// Whether what was stored can be found again (`inventory`, `sizes`). False for
  /// deliveries (SMTP, LMTP): the engine then records each message before and after its
  /// own transaction and takes the server's acknowledgement as the confirmation.
  var isSearchable: Bool { get }

  func close()
  func abandon()
}

extension MessageSink {
  public var isSearchable: Bool { true }
  public func store(_ messages: [AppendMessage], origins: [MessageOrigin]) throws -> [StoreOutcome] {
    try store(messages)
  }
  public func noteSpecialUse(_ specialUse: String, of folder: String) throws {}
  public var recordsSourcePresence: Bool { false }
  public func noteSourcePresence(account: String, folder: String, validity: UInt32, keys: [UInt32]) throws {}
}

/// Where a message being stored came from: the source account, its folder and the key the
/// source gave it there.
public struct MessageOrigin: Sendable, Equatable {
  public var account: String
  public var folder: String
  public var validity: UInt32
  public var key: UInt32
  /// The source's own name for it (a POP3 UIDL), when it has one.
  public var name: String?

  public init(account: String, folder: String, validity: UInt32, key: UInt32, name: String? = nil) {
    self.account = account
    self.folder = folder
    self.validity = validity
    self.key = key
    self.name = name
  }
}

/// What opening a sink folder reported.
public struct SinkFolderState: Sendable, Equatable {
  /// Ids are stable while this stays the same (IMAP UIDVALIDITY); nil when the sink gives
  /// no ids.
  public var validity: UInt32?
  public var count: Int
  /// Keywords the folder keeps; nil for any.
  public var permanentFlags: [String]?
  /// Something the report should say about opening it (a repair after a killed run).
  public var note: String?

  public init(validity: UInt32?, count: Int, permanentFlags: [String]?, note: String? = nil) {
    self.validity = validity
    self.count = count
    self.permanentFlags = permanentFlags
    self.note = note
  }

  public func accepts(keyword: String) -> Bool {
    guard let permanentFlags else { return true }
    return permanentFlags.contains("\\*") || permanentFlags.contains { $0.uppercased() == keyword.uppercased() }
  }
}

/// A message found in a sink folder.
public struct StoredMessage: Sendable, Equatable {
  public var id: UInt32?
  public var sha256: SHA256Digest
  public var messageID: MessageID?

  public init(id: UInt32?, sha256: SHA256Digest, messageID: MessageID?) {
    self.id = id
    self.sha256 = sha256
    self.messageID = messageID
  }
}

/// What became of one stored message.
public enum StoreOutcome: Sendable, Equatable {
  /// Stored, with the id it got when the sink reports one.
  case stored(id: UInt32?)
  /// Refused for good, with the server's words.
  case refused(reason: String)
  /// Delivered to some recipients and refused by others (SMTP, LMTP), with the refusals.
  case partlyStored(id: UInt32?, refusals: [String])
}
