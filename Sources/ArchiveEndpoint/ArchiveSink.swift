import Archive
import MailCore
import Mailstore

/// An archive directory as a `MessageSink` (`mailferry backup`): each source folder becomes
/// an archive folder; stored messages get the folder's own UIDs, and their bytes are kept
/// once however many folders hold them. Searchable: what a killed run stored is found again
/// through the catalog. One instance per engine worker, each with its own catalog connection.
public final class ArchiveSink: MessageSink, @unchecked Sendable {
  public let archive: Archive
  private var current: ArchiveFolder?
  private var specialUses: [String: String] = [:]

  /// Where a large copy read back is inflated to (`--spool-dir`).
  public var spoolDirectory = MessageSpooler.defaultDirectory

  public init(_ archive: Archive) { self.archive = archive }

  public func folders() throws -> [FolderDescriptor] {
    try archive.folders().map { FolderDescriptor(name: $0.name, separator: "/", specialUse: $0.specialUse) }
  }

  public func separator() throws -> Character? { "/" }
  public func personalPrefix() throws -> String { "" }

  public func noteSpecialUse(_ specialUse: String, of folder: String) throws {
    specialUses[folder] = specialUse
  }

  public func open(_ folder: String, forWriting: Bool) throws -> SinkFolderState? {
    var note: String?
    if forWriting {
      let prepared = try archive.prepareFolder(named: folder, specialUse: specialUses[folder])
      current = prepared.folder
      if prepared.repairedBytes > 0 {
        note = "cut off \(prepared.repairedBytes) bytes an interrupted run had left unfinished in the archive"
      }
    } else {
      current = try archive.folder(named: folder)
    }
    guard let current else { return nil }
    return SinkFolderState(
      validity: current.validity, count: try archive.messageCount(current), permanentFlags: nil, note: note)
  }

  private func openFolder() throws -> ArchiveFolder {
    guard let current else { throw ArchiveError.noSuchFolder(name: "(none open)") }
    return current
  }

  public func inventory(skipping known: Set<UInt32>, visit: (StoredMessage) throws -> Void) throws {
    let folder = try openFolder()
    let unknown = try archive.uids(folder, after: 0).filter { !known.contains($0) }
    for start in stride(from: 0, to: unknown.count, by: 1000) {
      for message in try archive.messages(folder, uids: Array(unknown[start..<min(unknown.count, start + 1000)])) {
        try visit(
          StoredMessage(
            id: message.uid, sha256: message.sha256,
            messageID: message.messageID.flatMap { MessageID(fieldValue: "<\($0)>") }))
      }
    }
  }

  public func store(_ messages: [MessageToStore]) throws -> [StoreOutcome] {
    try store(messages, origins: [])
  }

  public func store(_ messages: [MessageToStore], origins: [MessageOrigin]) throws -> [StoreOutcome] {
    let folder = try openFolder()
    let entries = messages.enumerated().map { index, message in
      let origin = index < origins.count ? origins[index] : nil
      return MessageToArchive(
        body: message.body, flags: message.flags, internalDate: message.receivedDate?.secondsSince1970,
        zoneMinutes: message.receivedDate?.zoneMinutes ?? 0,
        origin: origin.map {
          ArchiveOrigin(account: $0.account, folder: $0.folder, validity: $0.validity, uid: $0.key, name: $0.name)
        }, knownHash: message.contentHash)
    }
    return try archive.append(entries, to: folder).map { .stored(id: $0) }
  }

  public var readBackDepth: ReadBackDepth? { .content }

  /// The catalog's record of each copy: reading the header would decompress every member
  /// again (measured: a backup took half as long again, docs/benchmarks.md); `--verify`
  /// does that and hashes the content too.
  public var inexpensiveReadBackDepth: ReadBackDepth? { .size }

  /// Sizes from the catalog; headers and hashes from the data files, decompressed again.
  public func readBack(_ ids: [UInt32], depth: ReadBackDepth) throws -> [UInt32: StoredCopy] {
    let messages = try archive.messages(try openFolder(), uids: ids)
    guard depth > .size else {
      return Dictionary(messages.map { ($0.uid, StoredCopy(size: UInt64($0.size))) }, uniquingKeysWith: { a, _ in a })
    }
    var copies: [UInt32: StoredCopy] = [:]
    let small = messages.filter { $0.size <= Self.readBackInMemory }
    for (message, bytes) in zip(small, try archive.read(small)) {
      copies[message.uid] = StoredCopy(bytes: bytes, depth: depth)
    }
    // A large copy is inflated into a spool file and read from what that learnt on the way.
    for message in messages where message.size > Self.readBackInMemory {
      let spool = try archive.spool(message, directory: spoolDirectory)
      copies[message.uid] = StoredCopy(
        size: UInt64(spool.count),
        header: depth >= .header
          ? Array(MessageHeader.headerSection(of: spool.prefix).prefix(StoredCopy.headerLimit)) : nil,
        sha256: depth >= .content ? spool.contentHash : nil)
    }
    return copies
  }

  /// Copies larger than this are read back through a spool file, never held whole.
  static let readBackInMemory = 4 << 20

  public func storedBytes(of id: UInt32, atMost limit: UInt64) throws -> [UInt8]? {
    let messages = try archive.messages(try openFolder(), uids: [id])
    return try archive.read(messages).first
  }

  public func storedBody(of id: UInt32, atMost limit: UInt64, spooling policy: SpoolPolicy) throws -> MessageBody? {
    guard let message = try archive.messages(try openFolder(), uids: [id]).first else { return nil }
    guard policy.spools(size: UInt64(message.size)) else {
      return try archive.read([message]).first.map { .inMemory($0) }
    }
    return .spooled(try archive.spool(message, directory: policy.directory))
  }

  public func flags(of ids: [UInt32]) throws -> [UInt32: [String]] {
    Dictionary(
      try archive.messages(try openFolder(), uids: ids).map { ($0.uid, $0.flags) },
      uniquingKeysWith: { first, _ in first })
  }

  public func setFlags(_ changes: [(id: UInt32, flags: [String])]) throws {
    try archive.setFlags(changes.map { (uid: $0.id, flags: $0.flags) }, in: try openFolder())
  }

  public var recordsSourcePresence: Bool { true }

  public func noteSourcePresence(account: String, folder: String, validity: UInt32, keys: [UInt32]) throws {
    try archive.markPresent(
      account: account, sourceFolder: folder, validity: validity, uids: keys, recordedIn: try openFolder())
  }

  public func close() { current = nil }
  public func abandon() { current = nil }
}
