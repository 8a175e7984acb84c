import MailCore

/// Where a job's messages go: an IMAP account, an archive, SMTP/LMTP, a Maildir, mbox or
/// .eml directory.
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

  /// `open`, creating a missing folder with this special use (`\Sent`) where the store
  /// can mark one (IMAP CREATE-SPECIAL-USE). Throws `FolderNameRefused` for a name the
  /// store will not create.
  func open(_ folder: String, forWriting: Bool, specialUse: String?) throws -> SinkFolderState?

  /// Reads and hashes every message of the open folder whose id is not in `known`, so the
  /// engine can match messages it did not put there (or whose id it never learnt).
  func inventory(skipping known: Set<UInt32>, visit: (StoredMessage) throws -> Void) throws

  /// Stores a batch in the open folder. One outcome per message, in order; a refusal is an
  /// outcome, a lost connection throws.
  func store(_ messages: [MessageToStore]) throws -> [StoreOutcome]

  /// `store`, told where each message came from (an archive records it; others ignore it).
  func store(_ messages: [MessageToStore], origins: [MessageOrigin]) throws -> [StoreOutcome]

  /// Tells the sink the special use of the source folder that goes to `folder`, before it is
  /// opened (an archive keeps it for restores; servers have their own).
  func noteSpecialUse(_ specialUse: String, of folder: String) throws

  /// Whether the sink wants to hear which source messages are still there after each folder
  /// (an archive's "last seen").
  var recordsSourcePresence: Bool { get }

  /// The source messages of `folder` (in `account`, at `validity`) that the source still holds.
  func noteSourcePresence(account: String, folder: String, validity: UInt32, keys: [UInt32]) throws

  /// The deepest `readBack` this sink can do, or nil when nothing it stored can be read
  /// back by id (a delivery, an mbox file).
  var readBackDepth: ReadBackDepth? { get }

  /// The depth a job reads back by default: what costs the sink little next to storing.
  var inexpensiveReadBackDepth: ReadBackDepth? { get }

  /// Reads back the copies with these ids in the open folder, to check what was stored
  /// (after a batch) or confirm copies (before the source is deleted): their sizes, and
  /// down to `depth` their headers or content hashes. Ids not present are left out.
  func readBack(_ ids: [UInt32], depth: ReadBackDepth) throws -> [UInt32: StoredCopy]

  /// The whole stored copy with this id, to show where it differs from what was sent;
  /// nil when it is gone, cannot be read back, or a server sends more than `limit` bytes
  /// for it (what it sends is not trusted to be the size it reported).
  func storedBytes(of id: UInt32, atMost limit: UInt64) throws -> [UInt8]?

  /// `storedBytes`, with a copy above the policy's threshold read into a spool file rather
  /// than held, so a large altered copy can be compared a chunk at a time. The default
  /// holds `storedBytes` in memory.
  func storedBody(of id: UInt32, atMost limit: UInt64, spooling policy: SpoolPolicy) throws -> MessageBody?

  /// Current flags of the messages with these ids that are present.
  func flags(of ids: [UInt32]) throws -> [UInt32: [String]]

  /// Replaces the flags of these messages.
  func setFlags(_ changes: [(id: UInt32, flags: [String])]) throws

  /// Whether what was stored can be found again (`inventory`, `sizes`). False for
  /// deliveries (SMTP, LMTP): the engine then records each message before and after its
  /// own transaction and takes the server's acknowledgement as the confirmation.
  var isSearchable: Bool { get }

  /// The largest message the store says it takes (IMAP APPENDLIMIT, SMTP SIZE), if any.
  var sizeLimit: UInt64? { get }

  func close()
  func abandon()
}

extension MessageSink {
  public var isSearchable: Bool { true }
  public var sizeLimit: UInt64? { nil }
  public func open(_ folder: String, forWriting: Bool, specialUse: String?) throws -> SinkFolderState? {
    try open(folder, forWriting: forWriting)
  }
  public func store(_ messages: [MessageToStore], origins: [MessageOrigin]) throws -> [StoreOutcome] {
    try store(messages)
  }
  public func noteSpecialUse(_ specialUse: String, of folder: String) throws {}
  public var recordsSourcePresence: Bool { false }
  public func noteSourcePresence(account: String, folder: String, validity: UInt32, keys: [UInt32]) throws {}
  public var readBackDepth: ReadBackDepth? { nil }
  /// Size and header by default: on IMAP one small FETCH per batch (measured: no slower than
  /// none, docs/benchmarks.md); a local file is read from the page cache.
  public var inexpensiveReadBackDepth: ReadBackDepth? { readBackDepth.map { min($0, .header) } }
  public func readBack(_ ids: [UInt32], depth: ReadBackDepth) throws -> [UInt32: StoredCopy] { [:] }
  public func storedBytes(of id: UInt32, atMost limit: UInt64) throws -> [UInt8]? { nil }
  public func storedBody(of id: UInt32, atMost limit: UInt64, spooling policy: SpoolPolicy) throws -> MessageBody? {
    try storedBytes(of: id, atMost: limit).map { .inMemory($0) }
  }
}

/// How closely a stored copy is read back: each level includes the ones before it.
public enum ReadBackDepth: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
  /// Present, with its size.
  case size
  /// And its header bytes (where servers rewrite most: 8-bit header bytes, added fields).
  case header
  /// And the SHA-256 of all its bytes.
  case content

  public static func < (lhs: ReadBackDepth, rhs: ReadBackDepth) -> Bool { lhs.rawValue < rhs.rawValue }

  public var description: String {
    switch self {
    case .size: return "size"
    case .header: return "header"
    case .content: return "content"
    }
  }
}

/// A stored copy as read back.
public struct StoredCopy: Sendable, Equatable {
  /// Header bytes read back at most; longer headers are compared up to here.
  public static let headerLimit = 1 << 20

  public var size: UInt64
  /// The header section, through the empty line (`.header` and deeper).
  public var header: [UInt8]?
  /// SHA-256 of the line-ending-normalised bytes (`.content`).
  public var sha256: SHA256Digest?

  public init(size: UInt64, header: [UInt8]? = nil, sha256: SHA256Digest? = nil) {
    self.size = size
    self.header = header
    self.sha256 = sha256
  }

  /// Reads `bytes` (a whole stored copy) to `depth`.
  public init(bytes: [UInt8], depth: ReadBackDepth) {
    self.init(
      size: UInt64(bytes.count),
      header: depth >= .header ? Array(MessageHeader.headerSection(of: bytes).prefix(Self.headerLimit)) : nil,
      sha256: depth >= .content ? ContentHasher.hash(bytes) : nil)
  }
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
  /// Stored, but not quite as it came: `note` says how (an envelope sender the message's
  /// Return-Path could not give). The report shows it with the message.
  case storedWithNote(id: UInt32?, note: String)
  /// Refused, with the server's words and whether a later try may do better.
  case refused(StoreRefusal)
  /// Delivered to some recipients and refused by others (SMTP, LMTP), with the refusals.
  case partlyStored(id: UInt32?, refusals: [String])
}

/// Why a sink did not take a message.
public struct StoreRefusal: Sendable, Equatable, CustomStringConvertible {
  /// The server's (or store's) words.
  public var reason: String
  /// A 4xx, a quota that may clear, a busy server: a later run may succeed as it is.
  public var isTemporary: Bool
  /// What the user can do, when there is something.
  public var hint: String?

  public init(reason: String, isTemporary: Bool, hint: String? = nil) {
    self.reason = reason
    self.isTemporary = isTemporary
    self.hint = hint
  }

  public var description: String { reason }
}

/// The target refused to create a folder by this name (a character it forbids, a name it
/// reserves). The engine then tries the name `FolderNameRepair` makes of it.
public struct FolderNameRefused: UserFacingError, Equatable {
  public let name: String
  public let serverText: String

  public init(name: String, serverText: String) {
    self.name = name
    self.serverText = serverText
  }

  public var description: String { "the target refused to create folder '\(name)': \(serverText)" }
  public var hint: String? { "give it a name the target accepts with --folder-map 'SOURCE=NEW NAME'" }
  public var scope: FailureScope { .folder }
  public var isTemporary: Bool { false }
}
