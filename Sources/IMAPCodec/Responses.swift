import MailCore

/// One complete server response, as parsed from the wire.
public enum Response: Equatable, Sendable {
  /// `* …`: data or a status the server volunteers.
  case untagged(UntaggedResponse)
  /// `tag OK|NO|BAD …`: the end of a command.
  case tagged(tag: String, status: ResponseStatus)
  /// `+ …`: the server waits for a literal or an authentication step.
  case continuation(text: String)
}

/// `OK`, `NO`, `BAD`, `PREAUTH` or `BYE` with its optional code and human text.
public struct ResponseStatus: Equatable, Sendable {
  public enum Kind: String, Equatable, Sendable {
    case ok = "OK"
    case no = "NO"
    case bad = "BAD"
    case preauth = "PREAUTH"
    case bye = "BYE"
  }

  public var kind: Kind
  public var code: ResponseCode?
  public var text: String

  public init(kind: Kind, code: ResponseCode? = nil, text: String) {
    self.kind = kind
    self.code = code
    self.text = text
  }
}

/// The bracketed code of a status response (RFC 3501 §7.1 and extensions).
public enum ResponseCode: Equatable, Sendable {
  case alert
  case capability([String])
  case uidValidity(UInt32)
  case uidNext(UInt32)
  case unseen(UInt32)
  case highestModSeq(UInt64)
  case noModSeq
  /// RFC 4315: the target's UIDVALIDITY and the UIDs the appended messages got.
  case appendUID(uidValidity: UInt32, uids: UIDSet)
  case copyUID(uidValidity: UInt32, source: UIDSet, destination: UIDSet)
  case permanentFlags([String])
  case readOnly
  case readWrite
  case tryCreate
  case overQuota
  case limit
  case closed
  case parse
  /// Any other code, with its arguments as text.
  case other(name: String, text: String?)
}

/// Everything that follows `* ` except FETCH, which `FetchResponse` carries.
public enum UntaggedResponse: Equatable, Sendable {
  case status(ResponseStatus)
  case capability([String])
  case enabled([String])
  case list(MailboxListing)
  case lsub(MailboxListing)
  case mailboxStatus(mailbox: MailboxName, items: [String: UInt64])
  case search(ids: [UInt32], modSeq: UInt64?)
  case esearch(ESearchResponse)
  case flags([String])
  case exists(UInt32)
  case recent(UInt32)
  case expunge(UInt32)
  case vanished(earlier: Bool, uids: UIDSet)
  case namespace(NamespaceResponse)
  case id([String: String])
  case fetch(FetchResponse)
  /// A response this parser does not model, kept as its name and raw text.
  case other(name: String, text: String)
}

/// A mailbox name as the server sent it (bytes) and decoded for people.
public struct MailboxName: Hashable, Sendable, CustomStringConvertible {
  /// The exact name on the wire, to send back in commands.
  public let raw: [UInt8]

  public init(raw: [UInt8]) { self.raw = raw }
  public init(_ wireName: String) { raw = Array(wireName.utf8) }

  public var isInbox: Bool { String(decoding: raw, as: UTF8.self).uppercased() == "INBOX" }

  /// The name as the server wrote it.
  public var wireName: String { String(decoding: raw, as: UTF8.self) }

  public var description: String { wireName }
}

/// One `LIST` or `LSUB` line.
public struct MailboxListing: Equatable, Sendable {
  public var attributes: [String]
  /// Hierarchy separator; nil for a flat namespace (`NIL`).
  public var separator: Character?
  public var name: MailboxName
  /// Extended data such as `("CHILDINFO" ("SUBSCRIBED"))`, unparsed.
  public var extendedItems: [String]

  public init(attributes: [String], separator: Character?, name: MailboxName, extendedItems: [String] = []) {
    self.attributes = attributes
    self.separator = separator
    self.name = name
    self.extendedItems = extendedItems
  }

  public func hasAttribute(_ attribute: String) -> Bool {
    attributes.contains { $0.uppercased() == attribute.uppercased() }
  }

  /// The RFC 6154 special-use attribute, if any (`\Sent`, `\Drafts`, `\Trash`, `\Junk`,
  /// `\Archive`, `\All`, `\Flagged`).
  public var specialUse: String? {
    let uses = ["\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged"]
    return uses.first { hasAttribute($0) }
  }

  /// `\Noselect` or `\NonExistent`: a node in the hierarchy that holds no messages.
  public var isSelectable: Bool { !hasAttribute("\\Noselect") && !hasAttribute("\\NonExistent") }
}

/// RFC 4731 ESEARCH results.
public struct ESearchResponse: Equatable, Sendable {
  public var tag: String?
  public var uid: Bool
  public var all: UIDSet?
  public var min: UInt32?
  public var max: UInt32?
  public var count: UInt32?
  public var modSeq: UInt64?

  public init(
    tag: String? = nil, uid: Bool = false, all: UIDSet? = nil, min: UInt32? = nil, max: UInt32? = nil,
    count: UInt32? = nil, modSeq: UInt64? = nil
  ) {
    self.tag = tag
    self.uid = uid
    self.all = all
    self.min = min
    self.max = max
    self.count = count
    self.modSeq = modSeq
  }
}

/// RFC 2342 NAMESPACE: personal, other users', shared.
public struct NamespaceResponse: Equatable, Sendable {
  public struct Namespace: Equatable, Sendable {
    public var prefix: String
    public var separator: Character?
    public init(prefix: String, separator: Character?) {
      self.prefix = prefix
      self.separator = separator
    }
  }

  public var personal: [Namespace]
  public var otherUsers: [Namespace]
  public var shared: [Namespace]

  public init(personal: [Namespace], otherUsers: [Namespace], shared: [Namespace]) {
    self.personal = personal
    self.otherUsers = otherUsers
    self.shared = shared
  }
}

/// `* n FETCH (…)`, with every attribute that was not streamed.
public struct FetchResponse: Equatable, Sendable {
  public var sequenceNumber: UInt32
  public var attributes: [FetchAttribute]

  public init(sequenceNumber: UInt32, attributes: [FetchAttribute]) {
    self.sequenceNumber = sequenceNumber
    self.attributes = attributes
  }

  public var uid: UInt32? {
    for case .uid(let uid) in attributes { return uid }
    return nil
  }
  public var flags: [String]? {
    for case .flags(let flags) in attributes { return flags }
    return nil
  }
  public var internalDate: ReceivedDate? {
    for case .internalDate(let date) in attributes { return date }
    return nil
  }
  public var size: UInt64? {
    for case .rfc822Size(let size) in attributes { return size }
    return nil
  }
  public var modSeq: UInt64? {
    for case .modSeq(let modSeq) in attributes { return modSeq }
    return nil
  }
  public var gmailLabels: [String]? {
    for case .gmailLabels(let labels) in attributes { return labels }
    return nil
  }
  public var gmailMessageID: UInt64? {
    for case .gmailMessageID(let id) in attributes { return id }
    return nil
  }
  /// The bytes of a body section that arrived in memory (not streamed), e.g. a header field.
  public func body(section: String) -> [UInt8]? {
    for case .body(let name, _, let data) in attributes where name.uppercased() == section.uppercased() {
      return data
    }
    return nil
  }
}

/// One FETCH data item.
public enum FetchAttribute: Equatable, Sendable {
  case uid(UInt32)
  case flags([String])
  case internalDate(ReceivedDate)
  case rfc822Size(UInt64)
  case modSeq(UInt64)
  /// A body section received in memory: `BODY[HEADER.FIELDS (MESSAGE-ID)]`. `data` is nil
  /// for `NIL`.
  case body(section: String, origin: UInt32?, data: [UInt8]?)
  /// A body section whose bytes were delivered as a stream of `bodyBytes` events.
  case streamedBody(section: String, origin: UInt32?, size: UInt64)
  case binarySize(section: String, size: UInt64)
  /// Gmail's X-GM-LABELS: the labels the message carries besides the folder it is read in.
  case gmailLabels([String])
  /// Gmail's X-GM-MSGID: one id per message, the same in every label folder.
  case gmailMessageID(UInt64)
  /// Anything else (ENVELOPE, BODYSTRUCTURE, X-GM-THRID, …), as raw text.
  case other(name: String, value: String)
}

/// The start of a streamed body section: what was known about the message before its bytes.
public struct BodyStreamStart: Equatable, Sendable {
  public var sequenceNumber: UInt32
  /// The attributes that came before the body in the same FETCH response (often UID).
  public var attributesBefore: [FetchAttribute]
  /// `""` for the whole message (`BODY[]`), or `HEADER`, `TEXT`, `1.2`, ….
  public var section: String
  public var origin: UInt32?
  public var size: UInt64
  /// True for `BINARY[…]` / `~{n}`: bytes already transfer-decoded.
  public var binary: Bool

  public var uid: UInt32? {
    for case .uid(let uid) in attributesBefore { return uid }
    return nil
  }
}
