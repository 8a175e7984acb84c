import IMAPCodec
import MailCore
import Mailstore

/// An IMAP account written as a `MessageSink`: ids are UIDs from APPENDUID (UIDPLUS),
/// validity is UIDVALIDITY. Batches go as one MULTIAPPEND where offered (all or nothing),
/// else as pipelined APPENDs.
public final class IMAPSink: MessageSink, @unchecked Sendable {
  public let client: IMAPClient
  private var openFolder: MailboxName?

  public init(_ client: IMAPClient) { self.client = client }

  public func folders() throws -> [FolderDescriptor] {
    try client.listFolders().map(FolderDescriptor.init)
  }

  public func separator() throws -> Character? {
    if let separator = try client.listFolders().first?.separator { return separator }
    return try client.namespace()?.personal.first?.separator
  }

  public func personalPrefix() throws -> String { try client.personalPrefix() }

  public func open(_ folder: String, forWriting: Bool) throws -> SinkFolderState? {
    try open(folder, forWriting: forWriting, specialUse: nil)
  }

  public func open(_ folder: String, forWriting: Bool, specialUse: String?) throws -> SinkFolderState? {
    let name = client.mailboxName(folder)
    let existing = try client.listFolders()
    var note: String?
    if !existing.contains(where: { $0.name == name }) {
      guard forWriting else { return nil }
      if try !client.create(name, separator: existing.first?.separator, specialUse: specialUse), let specialUse {
        note = "created without the special use \(specialUse): the server does not let clients set it"
      }
      // Subscribing is a courtesy to mail clients; a server that refuses it loses nothing.
      try? client.subscribe(name)
    }
    let selected = try client.select(name, readOnly: !forWriting)
    openFolder = name
    return SinkFolderState(
      validity: selected.uidValidity, count: Int(selected.exists), permanentFlags: selected.permanentFlags,
      note: note)
  }

  public func inventory(skipping known: Set<UInt32>, visit: (StoredMessage) throws -> Void) throws {
    let uids = UIDSet(try client.uidSearch(.all).filter { !known.contains($0) })
    guard !uids.isEmpty else { return }
    /// The hasher is non-copyable: the closures share it through a box.
    final class Hashing {
      var hasher: ContentHasher?
      var header: [UInt8] = []
      var digest: SHA256Digest?
    }
    let hashing = Hashing()
    try client.fetchBodies(
      uids,
      consumer: BodyConsumer(
        begin: { _ in
          hashing.hasher = ContentHasher()
          hashing.header = []
        },
        bytes: { chunk in
          hashing.hasher!.update(chunk)
          if hashing.header.count < Self.headerLimit {
            hashing.header.append(contentsOf: chunk.prefix(Self.headerLimit))
          }
        }, end: { hashing.digest = hashing.hasher.take()!.finalize() }),
      onComplete: { uid in
        guard let found = hashing.digest else { return }
        hashing.digest = nil
        try visit(StoredMessage(id: uid, sha256: found, messageID: MessageID(message: hashing.header)))
      })
  }

  /// Enough of a message to find its Message-ID header.
  private static let headerLimit = 64 * 1024

  public func store(_ messages: [MessageToStore]) throws -> [StoreOutcome] {
    guard let folder = openFolder, !messages.isEmpty else { return [] }
    let messages = try messages.map(Self.withIMAPLineEndings)
    if messages.count > 1 && client.has("MULTIAPPEND") {
      do {
        let uids = try client.measuringLinkSpeed(uploading: true) { try client.append(messages, to: folder) }
        return (0..<messages.count).map { .stored(id: uids?[$0]) }
      } catch IMAPError.commandFailed(_, _, let status) where !IMAPThrottling.isThrottling(status) {
        // All or nothing: nothing went in. One by one, to learn which message is refused.
      }
    }
    let outcomes = try client.measuringLinkSpeed(uploading: true) { try client.appendEach(messages, to: folder) }
    for case .refused(let status) in outcomes where IMAPThrottling.isThrottling(status) {
      // Throttled, not refused: the engine waits and tries again; copies that went in are
      // found by their content (the checkpoint holds them as in flight).
      throw IMAPError.commandFailed(peer: client.peer, command: "APPEND to \(folder)", status: status)
    }
    return outcomes.map { outcome in
      switch outcome {
      case .appended(let uid): return .stored(id: uid)
      case .refused(let status): return .refused(Self.refusal(status))
      }
    }
  }

  /// IMAP carries messages with CRLF line endings, and some servers refuse others (Cyrus:
  /// `NO Message contains bare newlines`). A message with Unix line endings (from an mbox
  /// or a Maildir) is sent normalised, as it is hashed and compared; any other goes byte
  /// for byte.
  static func withIMAPLineEndings(_ message: MessageToStore) throws -> MessageToStore {
    switch message.body {
    case .inMemory(let bytes): guard MessageBytes.containsBareLineFeed(bytes) else { return message }
    case .spooled(let spool): guard spool.bareLineFeeds > 0 else { return message }
    }
    var normalised = message
    normalised.body = try message.body.normalizingLineEndings()
    return normalised
  }

  /// A refused APPEND: temporary when the server says it is busy or limited for now.
  public static func refusal(_ status: ResponseStatus) -> StoreRefusal {
    let reason = "\(status.kind.rawValue) \(status.text)"
    if IMAPClient.saysOverQuota(status) {
      return StoreRefusal(
        reason: reason, isTemporary: false, hint: "the target mailbox is over quota: free space there and run again")
    }
    switch status.code {
    case .other(let name, _)? where ["UNAVAILABLE", "INUSE", "THROTTLED", "SERVERBUG"].contains(name):
      return StoreRefusal(reason: reason, isTemporary: true)
    default: return StoreRefusal(reason: reason, isTemporary: false)
    }
  }

  public var readBackDepth: ReadBackDepth? { .content }

  /// RFC 7889 APPENDLIMIT=N: the largest message the server takes (a bare APPENDLIMIT
  /// means the limit differs per folder and is not read here).
  public var sizeLimit: UInt64? {
    client.capabilities.lazy.compactMap { $0.hasPrefix("APPENDLIMIT=") ? UInt64($0.dropFirst(12)) : nil }.first
  }

  /// UID FETCH of RFC822.SIZE, plus BODY.PEEK[HEADER] or BODY.PEEK[] (hashed as it streams).
  public func readBack(_ ids: [UInt32], depth: ReadBackDepth) throws -> [UInt32: StoredCopy] {
    var copies: [UInt32: StoredCopy] = [:]
    guard !ids.isEmpty else { return copies }
    var items = ["UID", "RFC822.SIZE"]
    switch depth {
    case .size: break
    case .header: items.append("BODY.PEEK[HEADER]")
    case .content: items.append("BODY.PEEK[]")
    }
    /// The hasher is non-copyable: the closures share it through a box.
    final class Reading {
      var hasher: ContentHasher?
      var bytes: [UInt8] = []
      var digest: SHA256Digest?
    }
    let reading = Reading()
    let consumer = BodyConsumer(
      begin: { _ in
        reading.bytes = []
        if depth == .content { reading.hasher = ContentHasher() }
      },
      bytes: { chunk in
        if depth == .content {
          reading.hasher!.update(chunk)
        } else {
          reading.bytes.append(
            contentsOf: chunk.prefix(StoredCopy.headerLimit - min(StoredCopy.headerLimit, reading.bytes.count)))
        }
      },
      end: { if depth == .content { reading.digest = reading.hasher.take()!.finalize() } })
    let tags = try UIDSet(ids).chunked(maxCount: 500).map {
      try client.send(.uidFetch(.uids($0), items: items, changedSince: nil))
    }
    for tag in tags {
      try client.waitFor(
        tag: tag, command: "UID FETCH",
        onData: { data in
          guard case .fetch(let fetch) = data, let uid = fetch.uid, let size = fetch.size else { return }
          var copy = StoredCopy(size: size)
          if depth == .header { copy.header = fetch.body(section: "HEADER") ?? reading.bytes }
          if depth == .content { copy.sha256 = reading.digest }
          copies[uid] = copy
          reading.bytes = []
          reading.digest = nil
        }, onBody: consumer)
    }
    return copies
  }

  /// Streamed like a source's fetch: a body over `limit` is read past, not held.
  public func storedBytes(of id: UInt32, atMost limit: UInt64) throws -> [UInt8]? {
    try IMAPSource(client).fetchReadable([id], within: MessageSizeLimits(listedSizes: [:], maxSize: limit)).bodies[id]
  }

  public func storedBody(of id: UInt32, atMost limit: UInt64, spooling policy: SpoolPolicy) throws -> MessageBody? {
    try IMAPSource(client).fetchBodies(
      [id], within: MessageSizeLimits(listedSizes: [:], maxSize: limit), spooling: policy
    ).bodies[id]
  }

  public func flags(of ids: [UInt32]) throws -> [UInt32: [String]] {
    var flags: [UInt32: [String]] = [:]
    for chunk in UIDSet(ids).chunked(maxCount: 1000) {
      try client.run(.uidFetch(.uids(chunk), items: ["UID", "FLAGS"], changedSince: nil)) { data in
        if case .fetch(let fetch) = data, let uid = fetch.uid, let found = fetch.flags { flags[uid] = found }
      }
    }
    return flags
  }

  public func setFlags(_ changes: [(id: UInt32, flags: [String])]) throws {
    // One UID STORE per distinct flag set.
    var byFlags: [[String]: [UInt32]] = [:]
    for change in changes { byFlags[change.flags.sorted(), default: []].append(change.id) }
    for (flags, ids) in byFlags.sorted(by: { $0.key.joined() < $1.key.joined() }) {
      for chunk in UIDSet(ids).chunked(maxCount: 1000) { try client.store(chunk, .replace, flags: flags) }
    }
  }

  public func close() { client.logout() }
  public func abandon() { client.close() }
}
