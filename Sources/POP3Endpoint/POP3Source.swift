import MailCore
import Mailstore

/// A POP3 maildrop read as a `MessageSource` with one folder, INBOX. UIDLs are turned into
/// keys by the job's key map, so a nightly run fetches only what is new. A server without
/// UIDL gives keys for this session only: what was copied before is then recognised by
/// content (every message is downloaded to be hashed).
///
/// POP3 keeps no flags or arrival dates: messages go to the sink unflagged, with the date
/// of their topmost Received field.
public final class POP3Source: MessageSource, @unchecked Sendable {
  public static let folderName = "INBOX"
  public let client: POP3Client
  /// key → message number in this session.
  private var numbers: [UInt32: Int] = [:]
  private var sizes: [Int: Int] = [:]
  /// key → UIDL.
  private var names: [UInt32: String] = [:]

  public init(_ client: POP3Client) { self.client = client }

  public func folders() throws -> [FolderDescriptor] {
    [FolderDescriptor(name: Self.folderName, separator: nil)]
  }

  public func personalPrefix() throws -> String { "" }

  /// No flags, no arrival dates: only the bytes.
  public var keeps: StoreTraits { [] }

  public func messageCount(_ folder: String) throws -> Int { try client.stat().count }

  public func open(_ folder: String, keyMap: any SourceKeyMap) throws -> SourceFolderState {
    sizes = try client.list()
    numbers = [:]
    if let listing = try client.uniqueIDs() {
      let keys = try keyMap.keys(for: listing.map(\.uid))
      names = [:]
      for (entry, key) in zip(listing, keys) {
        numbers[key] = entry.number
        names[key] = entry.uid
      }
      return SourceFolderState(validity: 1, highestModSeq: nil, count: listing.count)
    }
    for number in sizes.keys { numbers[UInt32(number)] = number }
    return SourceFolderState(
      validity: UInt32.random(in: 2...UInt32.max), highestModSeq: nil, count: sizes.count,
      sessionKeysOnly:
        "the POP3 server offers no UIDL: every message is downloaded and matched by content to find what is new")
  }

  public func keys(after: UInt32) throws -> [UInt32] {
    numbers.keys.filter { $0 > after }.sorted()
  }

  public func metadata(_ keys: [UInt32]) throws -> [SourceMessage] {
    keys.compactMap { key in
      guard let number = numbers[key], let size = sizes[number] else { return nil }
      return SourceMessage(key: key, flags: [], receivedDate: nil, size: UInt64(size), name: names[key])
    }
  }

  public func fetch(_ keys: [UInt32]) throws -> [UInt32: [UInt8]] {
    var keyOf: [Int: UInt32] = [:]
    for key in keys { if let number = numbers[key] { keyOf[number] = key } }
    var result: [UInt32: [UInt8]] = [:]
    try client.retrieve(keyOf.keys.sorted()) { number, bytes in
      if let key = keyOf[number] { result[key] = bytes }
    }
    return result
  }

  /// RETR with the LIST sizes as the announcement: a message longer than its limit is read
  /// and dropped as it arrives, and reported with the reason.
  public func fetchReadable(
    _ keys: [UInt32], within limits: MessageSizeLimits
  ) throws -> (bodies: [UInt32: [UInt8]], unreadable: [UInt32: String]) {
    var keyOf: [Int: UInt32] = [:]
    for key in keys { if let number = numbers[key] { keyOf[number] = key } }
    var bodies: [UInt32: [UInt8]] = [:]
    var unreadable: [UInt32: String] = [:]
    try client.retrieve(
      keyOf.keys.sorted(), limit: { keyOf[$0].flatMap(limits.limit(for:)) },
      oversized: { number, size in
        guard let key = keyOf[number] else { return }
        unreadable[key] = limits.reason(key: key, received: size)
      },
      body: { number, bytes in if let key = keyOf[number] { bodies[key] = bytes } })
    return (bodies, unreadable)
  }

  /// `fetchReadable(_:within:)`, with a message listed above the spool threshold written
  /// into a spool file as RETR delivers it, and one listed smaller (a LIST of 0, or a
  /// server that lies) moved into one once the bytes received pass the threshold.
  public func fetchBodies(
    _ keys: [UInt32], within limits: MessageSizeLimits, spooling policy: SpoolPolicy
  ) throws -> (bodies: [UInt32: MessageBody], unreadable: [UInt32: String]) {
    var keyOf: [Int: UInt32] = [:]
    for key in keys { if let number = numbers[key] { keyOf[number] = key } }
    var bodies: [UInt32: MessageBody] = [:]
    var unreadable: [UInt32: String] = [:]
    try client.retrieve(
      keyOf.keys.sorted(), limit: { keyOf[$0].flatMap(limits.limit(for:)) },
      oversized: { number, size in
        guard let key = keyOf[number] else { return }
        unreadable[key] = limits.reason(key: key, received: size)
      },
      builder: { number in
        guard let key = keyOf[number], policy.threshold != .max else { return nil }
        return try MessageBodyBuilder(
          threshold: policy.threshold, directory: policy.directory,
          expected: Int(clamping: limits.listedSizes[key] ?? 0))
      },
      built: { number, body in if let key = keyOf[number] { bodies[key] = body } },
      body: { number, bytes in if let key = keyOf[number] { bodies[key] = .inMemory(bytes) } })
    return (bodies, unreadable)
  }

  /// POP3 has no flags.
  public func flags(changedSince modSeq: UInt64?) throws -> [SourceFlags] { [] }

  /// DELE, then QUIT at once: deletions happen only when the server confirms QUIT, so
  /// this either removes all of them or throws and removes none. The session is over
  /// afterwards (this is the last thing a job does with a maildrop).
  public func remove(_ keys: [UInt32]) throws -> RemovalResult {
    let doomed = keys.compactMap { numbers[$0] }.sorted()
    guard !doomed.isEmpty else { return .removed }
    try client.delete(doomed)
    try client.quit()
    return .removed
  }

  public func close() { client.logout() }
  public func abandon() { client.close() }
}
