import MailCore

/// The commands MailFerry sends (RFC 3501/9051 and extensions), as values.
public enum Command: Sendable, Equatable {
  case capability
  case noop
  case logout
  case startTLS
  case compressDeflate
  case namespace
  case unselect
  case close
  case expunge
  case login(user: String, password: String)
  /// SASL with an initial response (RFC 4959 SASL-IR), e.g. PLAIN, XOAUTH2, OAUTHBEARER.
  case authenticate(mechanism: String, initialResponse: [UInt8])
  case id([(String, String)])
  case enable([String])
  case list(reference: MailboxName, pattern: MailboxName, returnOptions: [String])
  case lsub(reference: MailboxName, pattern: MailboxName)
  case status(MailboxName, items: [String])
  case select(MailboxName, readOnly: Bool, condstore: Bool)
  /// RFC 7162 QRESYNC: select and learn what changed since `modSeq` (when `uidValidity`
  /// still matches): VANISHED (EARLIER) for expunged UIDs, FETCH for changed flags.
  case selectQResync(MailboxName, readOnly: Bool, uidValidity: UInt32, modSeq: UInt64, knownUIDs: UIDSet?)
  /// With a special use (`\Sent`), `CREATE … (USE (\Sent))` (RFC 6154, CREATE-SPECIAL-USE).
  case create(MailboxName, specialUse: String? = nil)
  /// `SETMETADATA mailbox (entry value)` (RFC 5464); `/private/specialuse` sets a folder's
  /// special use on servers that keep it as metadata (RFC 6154).
  case setMetadata(MailboxName, entry: String, value: String)
  case delete(MailboxName)
  case subscribe(MailboxName)
  case uidSearch(SearchKey, returnOptions: [String]?)
  /// With `vanished` (QRESYNC enabled, `changedSince` set) the server also reports the
  /// UIDs expunged since then.
  case uidFetch(MessageSet, items: [String], changedSince: UInt64?, vanished: Bool = false)
  case uidStore(UIDSet, StoreMode, flags: [String], silent: Bool)
  case uidExpunge(UIDSet)
  /// One APPEND, or MULTIAPPEND (RFC 3502) when given several messages.
  case append(MailboxName, messages: [MessageToStore])

  public static func == (lhs: Command, rhs: Command) -> Bool {
    // Commands compare by their encoding: enough for tests.
    let encoder = CommandEncoder(capabilities: [])
    return encoder.encode(lhs, tag: "t").wireBytes == encoder.encode(rhs, tag: "t").wireBytes
  }
}

/// `1:5,9` or `n:*`: what FETCH ranges over.
public enum MessageSet: Sendable, Equatable, CustomStringConvertible {
  case uids(UIDSet)
  /// `n:*`: from n to the last message.
  case from(UInt32)

  public var description: String {
    switch self {
    case .uids(let set): return set.description
    case .from(let first): return "\(first):*"
    }
  }
}

public enum StoreMode: String, Sendable {
  case add = "+FLAGS"
  case remove = "-FLAGS"
  case replace = "FLAGS"
}

/// SEARCH keys MailFerry uses.
public indirect enum SearchKey: Sendable, Equatable {
  case all
  case uid(MessageSet)
  /// Internal date on or after the day (days are UTC calendar days, `d-Mon-yyyy`).
  case since(year: Int, month: Int, day: Int)
  case before(year: Int, month: Int, day: Int)
  case larger(UInt64)
  case smaller(UInt64)
  case header(field: String, value: String)
  case modSeq(UInt64)
  case and([SearchKey])
  case not(SearchKey)
}
