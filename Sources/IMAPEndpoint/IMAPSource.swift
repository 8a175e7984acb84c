import IMAPCodec
import MailCore
import Mailstore

/// An IMAP account read as a `MessageSource`: keys are UIDs, validity is UIDVALIDITY.
/// Folders are opened with EXAMINE and bodies read with BODY.PEEK[], so reading changes
/// nothing; only `remove` selects a folder for writing.
public final class IMAPSource: MessageSource, @unchecked Sendable {
  public let client: IMAPClient
  private var openFolder: (name: MailboxName, readOnly: Bool)?

  public init(_ client: IMAPClient) { self.client = client }

  public func folders() throws -> [FolderDescriptor] {
    try client.listFolders().map(FolderDescriptor.init)
  }

  public func personalPrefix() throws -> String { try client.personalPrefix() }

  /// Gmail's IMAP extensions: every message's labels come with its metadata.
  public var keepsLabels: Bool { client.has("X-GM-EXT-1") }

  public func messageCount(_ folder: String) throws -> Int {
    Int(try client.status(client.mailboxName(folder), items: ["MESSAGES"])["MESSAGES"] ?? 0)
  }

  /// STATUS SIZE where offered, else the sum of RFC822.SIZE.
  public func folderSize(_ folder: String) throws -> UInt64 {
    let name = client.mailboxName(folder)
    if client.has("STATUS=SIZE"), let size = try client.status(name, items: ["SIZE"])["SIZE"] { return size }
    return try client.totalSize(of: name)
  }

  /// UIDs are keys already: `keyMap` is not needed.
  public func open(_ folder: String, keyMap: any SourceKeyMap) throws -> SourceFolderState {
    let name = client.mailboxName(folder)
    let selected = try client.select(name, readOnly: true)
    openFolder = (name, true)
    guard let validity = selected.uidValidity else { throw IMAPError.noUIDValidity(peer: client.peer, mailbox: folder) }
    return SourceFolderState(
      validity: validity, highestModSeq: selected.noModSeq ? nil : selected.highestModSeq,
      count: Int(selected.exists))
  }

  public func keys(after: UInt32) throws -> [UInt32] {
    guard after < UInt32.max else { return [] }
    // `n:*` always matches the last message, even below n: filter.
    return try client.uidSearch(.uid(.from(after + 1))).filter { $0 > after }
  }

  public func metadata(_ keys: [UInt32]) throws -> [SourceMessage] {
    guard !keys.isEmpty else { return [] }
    return try client.fetchMetadata(.uids(UIDSet(keys))).map {
      var message = SourceMessage(key: $0.uid, flags: $0.flags, receivedDate: $0.internalDate, size: $0.size)
      message.labels = $0.labels
      message.globalID = $0.globalID
      return message
    }
  }

  public func fetch(_ keys: [UInt32]) throws -> [UInt32: [UInt8]] {
    guard !keys.isEmpty else { return [:] }
    let messages = try client.measuringLinkSpeed { try client.fetchMessages(UIDSet(keys)) }
    return Dictionary(messages.map { ($0.uid, $0.bytes) }, uniquingKeysWith: { first, _ in first })
  }

  public func fetchReadable(
    _ keys: [UInt32], within limits: MessageSizeLimits
  ) throws -> (bodies: [UInt32: [UInt8]], unreadable: [UInt32: String]) {
    let (bodies, unreadable) = try fetchBodies(keys, within: limits, spooling: .never)
    return (bodies.compactMapValues { if case .inMemory(let bytes) = $0 { bytes } else { nil } }, unreadable)
  }

  /// Streams the bodies, holding none past its limit: the literal's size is known before
  /// its bytes arrive, so a body over the limit is read past (keeping the session in step)
  /// and reported with the reason. A body that comes before its UID is held to the largest
  /// limit of the batch and checked against its own when the UID arrives. A literal larger
  /// than the spool threshold goes into a spool file as it arrives, hashed on the way.
  public func fetchBodies(
    _ keys: [UInt32], within limits: MessageSizeLimits, spooling policy: SpoolPolicy
  ) throws -> (bodies: [UInt32: MessageBody], unreadable: [UInt32: String]) {
    guard !keys.isEmpty else { return ([:], [:]) }
    var bodies: [UInt32: MessageBody] = [:]
    var unreadable: [UInt32: String] = [:]
    let largestLimit = limits.largestLimit(of: keys)
    var current: [UInt8] = []
    var spooler: MessageSpooler?
    var announced: UInt64?
    var skipping = false
    let consumer = BodyConsumer(
      begin: { start in
        current = []
        spooler = nil
        announced = start.size
        let limit = start.uid.map { limits.limit(for: $0) } ?? largestLimit
        skipping = limit.map { start.size > $0 } ?? false
        if !skipping && policy.spools(size: start.size) {
          spooler = try MessageSpooler(directory: policy.directory)
        } else if !skipping, limit != nil {
          current.reserveCapacity(Int(start.size))
        }
      },
      bytes: { chunk in
        guard !skipping else { return }
        if let spooler { try spooler.write(chunk) } else { current.append(contentsOf: chunk) }
      },
      end: {})
    try client.measuringLinkSpeed {
      try client.fetchBodies(
        UIDSet(keys), consumer: consumer,
        onComplete: { uid in
          guard let size = announced else { return }  // a FETCH without a body (flags only)
          defer {
            current = []
            spooler = nil
            announced = nil
          }
          if let reason = limits.reason(key: uid, received: size) {
            unreadable[uid] = reason
          } else if !skipping, bodies[uid] == nil {
            bodies[uid] = spooler.map { .spooled($0.finish()) } ?? .inMemory(current)
          }
        })
    }
    return (bodies, unreadable)
  }

  public func flags(changedSince modSeq: UInt64?) throws -> [SourceFlags] {
    let changedSince = client.has("CONDSTORE") ? modSeq : nil
    var result: [SourceFlags] = []
    try client.run(.uidFetch(.from(1), items: ["UID", "FLAGS"], changedSince: changedSince)) { data in
      if case .fetch(let fetch) = data, let uid = fetch.uid, let flags = fetch.flags {
        result.append(SourceFlags(key: uid, flags: flags))
      }
    }
    return result
  }

  public func remove(_ keys: [UInt32]) throws -> RemovalResult {
    guard let folder = openFolder, !keys.isEmpty else { return .removed }
    if folder.readOnly {
      _ = try client.select(folder.name, readOnly: false)
      openFolder = (folder.name, false)
    }
    let uids = UIDSet(keys)
    try client.store(uids, .add, flags: ["\\Deleted"])
    // Without UIDPLUS an EXPUNGE would also remove what the user had marked \Deleted.
    guard client.has("UIDPLUS") else {
      return .markedOnly(reason: "the server lacks UIDPLUS, so MailFerry leaves the expunge to you")
    }
    try client.expunge(uids)
    return .removed
  }

  public func close() { client.logout() }
  public func abandon() { client.close() }
}

extension FolderDescriptor {
  public init(_ folder: IMAPFolder) {
    self.init(
      name: folder.displayName, separator: folder.separator, specialUse: folder.specialUse,
      selectable: folder.isSelectable)
  }
}
