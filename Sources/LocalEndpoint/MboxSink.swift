import MailCore
import Mailstore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A directory of mbox files written as a `MessageSink`: folder `A/B` (separator `/`) is
/// the file `DIR/A.sbd/B` as Thunderbird lays it out, INBOX is `DIR/INBOX`. Messages are
/// appended as plain mboxrd records (`MboxrdRecordWriter`, the INTERNALDATE or now on the
/// separator line; a spooled body quoted chunk by chunk), and the file is synced after
/// each batch.
///
/// An mbox gives no ids: the folder's validity is nil and every message is `stored(id:
/// nil)`, so the engine's inventory hashes every record, copies are confirmed by content,
/// `sizes` and `flags` answer nothing and `setFlags` does nothing. Flags are not written
/// (they would change the message bytes); PERMANENTFLAGS is empty, so the engine reports
/// the keywords it leaves out.
///
/// Torn appends: before a batch, its starting offset is written to `.NAME.mailferry-append`
/// beside the file, and the note is removed once the batch is synced. At the next open for
/// writing, a note left by a killed run cuts the file back to that offset. A file that
/// still ends without a complete record (no note: another program's torn write) has its
/// last, incomplete record moved to `.NAME.torn-SECONDS` beside it. Either way
/// `recoveredTornTail` says how many bytes were cut.
public final class MboxSink: MessageSink, @unchecked Sendable {
  public let root: String
  /// Bytes cut from the end of the open folder's file at open (a torn append), or nil.
  public private(set) var recoveredTornTail: Int?
  /// Incomplete records cut at open that MailFerry had not written, and where they were kept.
  public private(set) var setAside: [SkippedItem] = []

  private var file: LocalFile?
  private var writable = false
  private var journalPath = ""

  static let journalSuffix = ".mailferry-append"

  /// `path` is a directory, created when the first folder is opened for writing.
  public init(path: String) throws {
    root = path
    if let status = try LocalFiles.status(path), !status.isDirectory {
      throw LocalStoreError.notADirectory(path: path)
    }
  }

  public func folders() throws -> [FolderDescriptor] {
    guard LocalFiles.isDirectory(root) else { return [] }
    return try MboxTree.list(root: root).folders
  }

  public func separator() throws -> Character? { MboxTree.separator }

  public func personalPrefix() throws -> String { "" }

  public func open(_ folder: String, forWriting: Bool) throws -> SinkFolderState? {
    file = nil
    recoveredTornTail = nil
    let (path, levels) = try MboxTree.fileLocation(root: root, folder: MaildirLayout.isInbox(folder) ? "INBOX" : folder)
    let directory = LocalFiles.parentDirectory(of: path)
    if !LocalFiles.exists(path) {
      guard forWriting else { return nil }
      try LocalFiles.makeDirectory(directory)
      try LocalFiles.createFile(path, contents: [])
      try LocalFiles.syncDirectory(directory)
    }
    if forWriting { for (parent, level) in levels { try LongNames.record(level, in: parent) } }
    let opened = try LocalFile(path: path, flags: forWriting ? O_RDWR : O_RDONLY)
    let leaf = String(path[path.index(after: path.lastIndex(of: "/")!)...])
    journalPath = LocalFiles.join(directory, "." + leaf + Self.journalSuffix)
    if forWriting { try finishInterruptedAppend(opened) }
    let index = try MboxIndex.build(opened)
    var count = index.entries.count
    if forWriting, try cutIncompleteRecord(opened, index: index, directory: directory, leaf: leaf) { count -= 1 }
    file = opened
    writable = forWriting
    return SinkFolderState(validity: nil, count: count, permanentFlags: [])
  }

  /// Hashes every record as it streams past (there are no ids to skip by).
  public func inventory(skipping known: Set<UInt32>, visit: (StoredMessage) throws -> Void) throws {
    let file = try openFile()
    _ = try MboxIndex.build(file, hashing: true) { found in
      try visit(StoredMessage(id: nil, sha256: found.sha256, messageID: found.messageID))
    }
  }

  public func store(_ messages: [MessageToStore]) throws -> [StoreOutcome] {
    let file = try openFile(forWriting: true)
    guard !messages.isEmpty else { return [] }
    let start = try file.seekToEnd()
    try LocalFiles.replaceFile(journalPath, contents: Array("\(start)\n".utf8))
    do {
      for message in messages {
        let date = message.receivedDate?.secondsSince1970 ?? LocalFiles.now()
        var out = Mboxrd.separatorLine(sender: Mboxrd.sender(of: message.body.headerBytes), date: date)
        var record = MboxrdRecordWriter()
        try message.body.forEachChunk { chunk in
          record.add(chunk, into: &out)
          try file.write(out)
          out.removeAll(keepingCapacity: true)
        }
        record.finish(into: &out)
        try file.write(out)
      }
      try file.sync()
    } catch {
      // Take the partial batch back now if possible; else the note does it at the next open.
      if (try? file.truncate(to: start)) != nil, (try? file.sync()) != nil {
        _ = try? LocalFiles.remove(journalPath)
      }
      throw error
    }
    try LocalFiles.remove(journalPath)
    try LocalFiles.syncDirectory(LocalFiles.parentDirectory(of: journalPath))
    return messages.map { _ in .stored(id: nil) }
  }

  /// An mbox gives no ids.

  /// An mbox gives no ids.
  public func flags(of ids: [UInt32]) throws -> [UInt32: [String]] { [:] }

  /// Flags are not kept in the file.
  public func setFlags(_ changes: [(id: UInt32, flags: [String])]) throws {}

  public func close() { file = nil }
  public func abandon() { file = nil }

  // MARK: Helpers

  private func openFile(forWriting: Bool = false) throws -> LocalFile {
    guard let file, writable || !forWriting else { throw LocalStoreError.noFolderOpen(store: root) }
    return file
  }

  /// Cuts the file back to where a batch that a killed run left unfinished began.
  private func finishInterruptedAppend(_ file: LocalFile) throws {
    guard LocalFiles.exists(journalPath) else { return }
    let text = String(decoding: try LocalFiles.readAll(journalPath), as: UTF8.self)
    // A note that does not parse was being written when the run stopped: nothing was
    // appended after it.
    if text.hasSuffix("\n"), let start = UInt64(text.dropLast()) {
      let size = try file.size()
      if size > start {
        try file.truncate(to: start)
        try file.sync()
        recoveredTornTail = Int(size - start)
      }
    }
    try LocalFiles.remove(journalPath)
    try LocalFiles.syncDirectory(LocalFiles.parentDirectory(of: journalPath))
  }

  /// Moves an incomplete last record (the file does not end with the empty line that closes
  /// a record) to a file beside it, so appends start on a record boundary and nothing is
  /// lost. True when a record was cut.
  private func cutIncompleteRecord(
    _ file: LocalFile, index: MboxIndex, directory: String, leaf: String
  ) throws
    -> Bool
  {
    let size = index.length
    guard size > 0 else { return false }
    let end = try file.read(from: size >= 3 ? size - 3 : 0, count: 3)
    if end.suffix(2) == [0x0A, 0x0A] || end == [0x0A, 0x0D, 0x0A] { return false }
    let lastOffset = index.entries.last?.offset ?? 0
    let tail = Int(size - lastOffset)
    let aside = LocalFiles.join(directory, ".\(leaf).torn-\(LocalFiles.now())-\(UInt16.random(in: 0...UInt16.max))")
    try LocalFiles.createFile(aside, copying: file, from: lastOffset, count: UInt64(tail))
    try LocalFiles.syncDirectory(directory)
    try file.truncate(to: lastOffset)
    try file.sync()
    recoveredTornTail = (recoveredTornTail ?? 0) + tail
    setAside.append(
      SkippedItem(
        path: aside,
        reason: "an incomplete last record (\(tail) bytes) was cut from \(file.path) and kept here"))
    return !index.entries.isEmpty
  }
}
