import MailCore
import Mailstore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An mbox file, or a directory of them, read as a `MessageSource`. A single file is one
/// folder, INBOX; a directory is a tree of folders (`MboxTree`: `Archive.sbd/2023` is
/// `Archive/2023`, separator `/`).
///
/// Opening a folder indexes its file in one pass (`MboxIndex`): keys are the records'
/// ordinals 1…n, and the validity is a hash of the file's inode and first bytes, so
/// messages appended later get new keys while a file that is rewritten from the start or
/// replaced (a compacted Thunderbird folder) gets a new validity and is matched by content.
/// Records are read back from their offsets and mboxrd-unquoted as they stream (a large
/// one into a spool file). Flags come from the
/// `Status` and `X-Status` fields, INTERNALDATE from the separator line.
///
/// `remove` throws `LocalStoreError.removalUnsupported`: deleting records would mean
/// rewriting the file under whatever program owns it, so `--delete-source` leaves an mbox
/// as it was and says so.
public final class MboxSource: MessageSource, @unchecked Sendable {
  public static let singleFolderName = "INBOX"
  public let path: String
  /// True when `path` is one mbox file rather than a directory of them.
  public let isSingleFile: Bool
  /// Files passed over when listing folders (not mbox files), with the reason.
  public private(set) var skipped: [SkippedItem] = []

  private var file: LocalFile?
  private var index = MboxIndex()

  /// Dates from the separator lines. Flags are read from `Status` fields where other
  /// programs wrote them, but an mbox written by MailFerry keeps none, so comparisons
  /// leave them out.
  public var keeps: StoreTraits { [.receivedDates] }

  public init(path: String) throws {
    self.path = path
    guard let status = try LocalFiles.status(path) else { throw LocalStoreError.notFound(path: path) }
    if status.isDirectory {
      isSingleFile = false
    } else if status.isRegular {
      guard try MboxTree.startsLikeMbox(path) else { throw LocalStoreError.notAnMbox(path: path) }
      isSingleFile = true
    } else {
      throw LocalStoreError.notAnMbox(path: path)
    }
  }

  public func folders() throws -> [FolderDescriptor] {
    if isSingleFile { return [FolderDescriptor(name: Self.singleFolderName, separator: nil)] }
    let listing = try MboxTree.list(root: path)
    skipped = listing.skipped
    return listing.folders
  }

  public func personalPrefix() throws -> String { "" }

  public func messageCount(_ folder: String) throws -> Int {
    try MboxIndex.build(try LocalFile(path: try filePath(folder), flags: O_RDONLY)).entries.count
  }

  /// Keys are ordinals: `keyMap` is not needed.
  public func open(_ folder: String, keyMap: any SourceKeyMap) throws -> SourceFolderState {
    file = nil
    let opened = try LocalFile(path: try filePath(folder), flags: O_RDONLY)
    index = try MboxIndex.build(opened)
    file = opened
    return SourceFolderState(validity: index.validity, highestModSeq: nil, count: index.entries.count)
  }

  public func keys(after: UInt32) throws -> [UInt32] {
    _ = try openFile()
    let count = UInt32(index.entries.count)
    guard after < count else { return [] }
    return Array((after + 1)...count)
  }

  public func metadata(_ keys: [UInt32]) throws -> [SourceMessage] {
    _ = try openFile()
    return keys.compactMap { key in
      entry(key).map { SourceMessage(key: key, flags: $0.flags, receivedDate: $0.date, size: $0.size) }
    }
  }

  /// Reads each record at its offset. A record that is no longer where the index found it
  /// means another program rewrote the file: `LocalStoreError.mboxChanged`.
  public func fetch(_ keys: [UInt32]) throws -> [UInt32: [UInt8]] {
    var messages: [UInt32: [UInt8]] = [:]
    for (key, body) in try fetchBodies(keys, within: .none, spooling: .never).bodies {
      messages[key] = try body.wholeBytes()
    }
    return messages
  }

  /// `fetch`, streaming each record from the file through `MboxStreamSplitter`: a message
  /// above the policy's threshold is unquoted into a spool file a chunk at a time, never
  /// held whole (and the file may change after, the copy does not).
  public func fetchBodies(
    _ keys: [UInt32], within limits: MessageSizeLimits, spooling policy: SpoolPolicy
  ) throws -> (bodies: [UInt32: MessageBody], unreadable: [UInt32: String]) {
    let file = try openFile()
    var bodies: [UInt32: MessageBody] = [:]
    var unreadable: [UInt32: String] = [:]
    for key in keys {
      guard let entry = entry(key) else { continue }
      let body = try read(entry, from: file, spooling: policy)
      if let reason = limits.reason(key: key, received: UInt64(body.count)) {
        unreadable[key] = reason
      } else {
        bodies[key] = body
      }
    }
    return (bodies, unreadable)
  }

  /// The message of one indexed record, checked to be where and as long as it was indexed.
  private func read(
    _ entry: MboxIndex.Entry, from file: LocalFile, spooling policy: SpoolPolicy
  ) throws
    -> MessageBody
  {
    let builder = try MessageBodyBuilder(
      threshold: policy.threshold, directory: policy.directory, expected: Int(clamping: entry.size))
    var splitter = MboxStreamSplitter()
    var records = 0
    func take(_ event: MboxStreamSplitter.Event) throws {
      switch event {
      case .start: records += 1
      case .body(let bytes): if records == 1 { try builder.append(bytes) }
      case .end: break
      }
    }
    var read: UInt64 = 0
    while read < entry.length {
      let chunk = try file.read(from: entry.offset + read, count: Int(min(entry.length - read, 1 << 20)))
      if chunk.isEmpty { break }
      if read == 0 && !chunk.starts(with: Array("From ".utf8)) { throw LocalStoreError.mboxChanged(path: file.path) }
      try chunk.withUnsafeBytes { try splitter.feed($0, emit: take) }
      read += UInt64(chunk.count)
    }
    try splitter.finish(emit: take)
    guard read == entry.length, records >= 1, UInt64(builder.count) == entry.size else {
      throw LocalStoreError.mboxChanged(path: file.path)
    }
    return builder.finish()
  }

  /// Every message's flags as the index read them (an mbox keeps no modification
  /// sequences).
  public func flags(changedSince modSeq: UInt64?) throws -> [SourceFlags] {
    _ = try openFile()
    return index.entries.enumerated().map { SourceFlags(key: UInt32($0.offset + 1), flags: $0.element.flags) }
  }

  public func remove(_ keys: [UInt32]) throws -> RemovalResult {
    let file = try openFile()
    guard !keys.isEmpty else { return .removed }
    throw LocalStoreError.removalUnsupported(path: file.path)
  }

  public func close() { file = nil }
  public func abandon() { file = nil }

  private func openFile() throws -> LocalFile {
    guard let file else { throw LocalStoreError.noFolderOpen(store: path) }
    return file
  }

  private func entry(_ key: UInt32) -> MboxIndex.Entry? {
    guard key >= 1, Int(key) <= index.entries.count else { return nil }
    return index.entries[Int(key) - 1]
  }

  private func filePath(_ folder: String) throws -> String {
    if isSingleFile {
      guard folder.uppercased() == Self.singleFolderName else {
        throw LocalStoreError.notFound(path: "\(path) (folder \(folder))")
      }
      return path
    }
    return try MboxTree.existingFilePath(root: path, folder: folder)
  }
}
