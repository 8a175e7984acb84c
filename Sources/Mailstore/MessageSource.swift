import MailCore

/// Where a job's messages come from: an IMAP account, a POP3 maildrop, an archive, a
/// Maildir or mbox files. `verify` reads both of its sides through this interface. One instance is one session, owned by one thread at a time; the engine opens
/// one folder at a time and reads it by key.
public protocol MessageSource: AnyObject, Sendable {
  /// The folders there are to copy, selectable or not.
  func folders() throws -> [FolderDescriptor]

  /// The prefix of the personal namespace (`INBOX.` on Courier-style servers, else empty).
  func personalPrefix() throws -> String

  /// How many messages `folder` holds, without opening it (for progress estimates).
  func messageCount(_ folder: String) throws -> Int

  /// The total size of `folder`'s messages (`mailferry folders`).
  func folderSize(_ folder: String) throws -> UInt64

  /// Opens `folder` for reading (never changing it) and says how its keys are to be read.
  /// Sources whose messages have names rather than numbers (POP3 UIDLs) turn them into
  /// keys with `keyMap`, which remembers them across runs.
  func open(_ folder: String, keyMap: any SourceKeyMap) throws -> SourceFolderState

  /// Keys of the open folder above `after`, ascending.
  func keys(after: UInt32) throws -> [UInt32]

  /// Flags, date and size of these messages; keys no longer present are left out.
  func metadata(_ keys: [UInt32]) throws -> [SourceMessage]

  /// The bytes of these messages, exactly as stored; keys no longer present are left out.
  func fetch(_ keys: [UInt32]) throws -> [UInt32: [UInt8]]

  /// `fetch`, telling apart messages that are there but cannot be read (a damaged archive
  /// record), with the reason: the engine records those as failed instead of gone.
  func fetchReadable(_ keys: [UInt32]) throws -> (bodies: [UInt32: [UInt8]], unreadable: [UInt32: String])

  /// `fetchReadable`, keeping no message past its limit in `limits`: a larger one is
  /// reported unreadable with the reason. Sources that stream from a server (IMAP, POP3)
  /// drop its bytes as they arrive; the default reads, then checks.
  func fetchReadable(
    _ keys: [UInt32], within limits: MessageSizeLimits
  ) throws -> (bodies: [UInt32: [UInt8]], unreadable: [UInt32: String])

  /// `fetchReadable(_:within:)`, writing bodies larger than the policy's threshold to spool
  /// files as they arrive, so no such message is ever held whole. Sources that cannot yet
  /// spool read into memory (the default).
  func fetchBodies(
    _ keys: [UInt32], within limits: MessageSizeLimits, spooling policy: SpoolPolicy
  ) throws -> (bodies: [UInt32: MessageBody], unreadable: [UInt32: String])

  /// Current flags of the messages whose flags changed since `modSeq`, or of every message
  /// when `modSeq` is nil or the source keeps no modification sequences.
  func flags(changedSince modSeq: UInt64?) throws -> [SourceFlags]

  /// Removes these messages from the open folder (`--delete-source`, after their copies are
  /// committed and confirmed).
  func remove(_ keys: [UInt32]) throws -> RemovalResult

  /// What the store keeps besides the bytes, so comparisons look only at what both sides keep.
  var keeps: StoreTraits { get }

  /// True when the source says which labels each message carries (`SourceMessage.labels`):
  /// a Gmail account offering X-GM-EXT-1.
  var keepsLabels: Bool { get }

  /// Ends the session politely.
  func close()
  /// Drops the session without a word (after an error).
  func abandon()
}

extension MessageSource {
  public var keeps: StoreTraits { .all }
  public var keepsLabels: Bool { false }

  /// Opens the folder and adds up the sizes its messages are listed with.
  public func folderSize(_ folder: String) throws -> UInt64 {
    _ = try open(folder, keyMap: SessionKeyMap())
    return try metadata(try keys(after: 0)).reduce(0) { $0 + $1.size }
  }

  public func fetchReadable(_ keys: [UInt32]) throws -> (bodies: [UInt32: [UInt8]], unreadable: [UInt32: String]) {
    (try fetch(keys), [:])
  }

  public func fetchBodies(
    _ keys: [UInt32], within limits: MessageSizeLimits, spooling policy: SpoolPolicy
  ) throws -> (bodies: [UInt32: MessageBody], unreadable: [UInt32: String]) {
    let (bodies, unreadable) = try fetchReadable(keys, within: limits)
    return (bodies.mapValues { .inMemory($0) }, unreadable)
  }

  public func fetchReadable(
    _ keys: [UInt32], within limits: MessageSizeLimits
  ) throws -> (bodies: [UInt32: [UInt8]], unreadable: [UInt32: String]) {
    var (bodies, unreadable) = try fetchReadable(keys)
    for (key, bytes) in bodies {
      if let reason = limits.reason(key: key, received: UInt64(bytes.count)) {
        bodies[key] = nil
        unreadable[key] = reason
      }
    }
    return (bodies, unreadable)
  }
}

/// Turns a source's own message names (POP3 UIDLs) into the numeric keys the engine
/// tracks, remembering them across runs: a new name gets a key above every earlier one.
public protocol SourceKeyMap: AnyObject {
  func keys(for identities: [String]) throws -> [UInt32]
}

/// Keys for a source whose messages have names (POP3 UIDLs), kept for this session only
/// (for reading without a job: `verify`, `folders`).
public final class SessionKeyMap: SourceKeyMap {
  private var keys: [String: UInt32] = [:]

  public init() {}

  public func keys(for identities: [String]) throws -> [UInt32] {
    identities.map { identity in
      if let key = keys[identity] { return key }
      let key = UInt32(keys.count + 1)
      keys[identity] = key
      return key
    }
  }
}

/// What opening a source folder reported.
public struct SourceFolderState: Sendable, Equatable {
  /// Keys are stable while this stays the same (IMAP UIDVALIDITY).
  public var validity: UInt32
  /// CONDSTORE's HIGHESTMODSEQ, when the source keeps modification sequences.
  public var highestModSeq: UInt64?
  public var count: Int
  /// Set when keys hold only for this session (a POP3 server without UIDL): `validity` is
  /// new every time, and what was copied before is recognised by content. Says why.
  public var sessionKeysOnly: String?

  public init(validity: UInt32, highestModSeq: UInt64?, count: Int, sessionKeysOnly: String? = nil) {
    self.validity = validity
    self.highestModSeq = highestModSeq
    self.count = count
    self.sessionKeysOnly = sessionKeysOnly
  }
}

/// A message as its source lists it, before the body is read.
public struct SourceMessage: Sendable, Equatable {
  public var key: UInt32
  public var flags: [String]
  public var receivedDate: ReceivedDate?
  public var size: UInt64
  /// The source's own name for the message when it has one (a POP3 UIDL).
  public var name: String?
  /// The labels the message carries, for a source that keeps labels rather than folders
  /// (Gmail's X-GM-LABELS, decoded); nil when the source does not say.
  public var labels: [String]?
  /// The source's id for the message across its label folders (Gmail's X-GM-MSGID).
  public var globalID: UInt64?

  public init(key: UInt32, flags: [String], receivedDate: ReceivedDate?, size: UInt64, name: String? = nil) {
    self.key = key
    self.flags = flags
    self.receivedDate = receivedDate
    self.size = size
    self.name = name
  }
}

/// A message's flags as the source has them now.
public struct SourceFlags: Sendable, Equatable {
  public var key: UInt32
  public var flags: [String]

  public init(key: UInt32, flags: [String]) {
    self.key = key
    self.flags = flags
  }
}

/// How far a removal went.
public enum RemovalResult: Sendable, Equatable {
  /// The messages are gone.
  case removed
  /// Marked for deletion only; `reason` says why they were not removed for good.
  case markedOnly(reason: String)
}

/// What a store keeps of a message besides its bytes.
public struct StoreTraits: OptionSet, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// System flags (`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`).
  public static let flags = StoreTraits(rawValue: 1)
  /// Keywords (`$Forwarded`, `Work`, …).
  public static let keywords = StoreTraits(rawValue: 2)
  /// When the message was received (IMAP INTERNALDATE), at least to the second.
  public static let receivedDates = StoreTraits(rawValue: 4)

  public static let all: StoreTraits = [.flags, .keywords, .receivedDates]
}
