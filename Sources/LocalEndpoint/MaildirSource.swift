import MailCore
import Mailstore

/// A Maildir++ directory read as a `MessageSource` (layout: `MaildirLayout`). Messages in
/// `new/` and `cur/` are named by the unique part of their file name (before `:2,`), which
/// stays when another program changes their flags; the job's key map turns those names
/// into keys, listed oldest first (mtime, then name), so the validity is always 1 and a
/// later run reads only what is new. Flags come from the info letters (keywords through
/// `dovecot-keywords`), INTERNALDATE from the file's mtime. Reading changes nothing;
/// `remove` deletes the files. Folders are reported with their names as the store has
/// them (separator `.`, no special use: that is decided by name elsewhere).
public final class MaildirSource: MessageSource, @unchecked Sendable {
  public let root: String
  /// Files of the open folder passed over (names that are not UTF-8, things that are not
  /// files), with the reason.
  public private(set) var skipped: [SkippedItem] = []

  private var current: MaildirFolder?
  private var details: [UInt32: (modified: Int64, size: UInt64)] = [:]

  public init(root: String) throws {
    self.root = root
    guard let status = try LocalFiles.status(root) else { throw LocalStoreError.notFound(path: root) }
    guard status.isDirectory else { throw LocalStoreError.notADirectory(path: root) }
    guard !(try MaildirLayout.folders(root: root)).isEmpty else { throw LocalStoreError.notAMaildir(path: root) }
  }

  public func folders() throws -> [FolderDescriptor] {
    try MaildirLayout.folders(root: root).map { FolderDescriptor(name: $0.name, separator: MaildirLayout.separator) }
  }

  public func personalPrefix() throws -> String { "" }

  public func messageCount(_ folder: String) throws -> Int {
    var unreadable: [String] = []
    return try MaildirLayout.entries(of: try existingDirectory(folder), unreadable: &unreadable).count
  }

  /// Keys come from `keyMap`, which remembers each file's unique name across runs.
  public func open(_ folder: String, keyMap: any SourceKeyMap) throws -> SourceFolderState {
    current = nil
    details = [:]
    skipped = []
    let opened = try MaildirFolder(name: folder, path: try existingDirectory(folder))
    var listed: [(entry: MaildirLayout.Entry, status: LocalFiles.Status)] = []
    for entry in try opened.listEntries() {
      guard let status = try LocalFiles.status(opened.path(of: entry)) else { continue }  // just removed
      guard status.isRegular else {
        skipped.append(SkippedItem(path: opened.path(of: entry), reason: "not a regular file"))
        continue
      }
      listed.append((entry, status))
    }
    for path in opened.unreadable {
      skipped.append(SkippedItem(path: path, reason: "a file name that is not UTF-8 was left out"))
    }
    listed.sort { ($0.status.modified, $0.entry.fileName) < ($1.status.modified, $1.entry.fileName) }
    let keys = try keyMap.keys(for: listed.map(\.entry.base))
    for (item, key) in zip(listed, keys) {
      opened.files[key] = item.entry
      details[key] = (item.status.modified, item.status.size)
    }
    current = opened
    return SourceFolderState(validity: 1, highestModSeq: nil, count: opened.files.count)
  }

  public func keys(after: UInt32) throws -> [UInt32] {
    try openFolder().files.keys.filter { $0 > after }.sorted()
  }

  public func metadata(_ keys: [UInt32]) throws -> [SourceMessage] {
    let folder = try openFolder()
    return keys.compactMap { key in
      guard let flags = folder.flags(of: key), let detail = details[key] else { return nil }
      return SourceMessage(
        key: key, flags: flags, receivedDate: ReceivedDate(secondsSince1970: detail.modified), size: detail.size)
    }
  }

  /// Reads each file, looking for it again when another program renamed it since it was
  /// listed; a file that is gone is left out, one that cannot be read is an error.
  public func fetch(_ keys: [UInt32]) throws -> [UInt32: [UInt8]] {
    let folder = try openFolder()
    var messages: [UInt32: [UInt8]] = [:]
    for key in keys {
      if let bytes = try folder.withFile(key, Self.readIfPresent) { messages[key] = bytes }
    }
    return messages
  }

  /// `fetch`, with a file larger than the policy's threshold (as it is read, not as it was
  /// listed) copied into a spool file a chunk at a time: the file may change after this
  /// read, the copy does not.
  public func fetchBodies(
    _ keys: [UInt32], within limits: MessageSizeLimits, spooling policy: SpoolPolicy
  ) throws -> (bodies: [UInt32: MessageBody], unreadable: [UInt32: String]) {
    let folder = try openFolder()
    var bodies: [UInt32: MessageBody] = [:]
    var unreadable: [UInt32: String] = [:]
    for key in keys {
      guard let body = try folder.withFile(key, { try LocalFiles.readBody($0, spooling: policy) }) else { continue }
      if let reason = limits.reason(key: key, received: UInt64(body.count)) {
        unreadable[key] = reason
      } else {
        bodies[key] = body
      }
    }
    return (bodies, unreadable)
  }

  /// The flags every message has now (a Maildir keeps no modification sequences).
  public func flags(changedSince modSeq: UInt64?) throws -> [SourceFlags] {
    let folder = try openFolder()
    try folder.rescan()
    return folder.files.keys.sorted().compactMap { key in
      folder.flags(of: key).map { SourceFlags(key: key, flags: $0) }
    }
  }

  /// Deletes the files (and syncs the directories): the messages are gone for good.
  public func remove(_ keys: [UInt32]) throws -> RemovalResult {
    let folder = try openFolder()
    for key in keys {
      _ = try folder.withFile(key) { try LocalFiles.remove($0) ? true : nil }
      folder.files[key] = nil
    }
    if !keys.isEmpty {
      for subdirectory in ["cur", "new"] where LocalFiles.isDirectory(folder.subdirectory(subdirectory)) {
        try LocalFiles.syncDirectory(folder.subdirectory(subdirectory))
      }
    }
    return .removed
  }

  public func close() { current = nil }
  public func abandon() { current = nil }

  private func openFolder() throws -> MaildirFolder {
    guard let current else { throw LocalStoreError.noFolderOpen(store: root) }
    return current
  }

  private func existingDirectory(_ folder: String) throws -> String {
    let path = try MaildirLayout.directory(root: root, folder: folder)
    guard MaildirLayout.isMaildir(path) else { throw LocalStoreError.notFound(path: path) }
    return path
  }

  static func readIfPresent(_ path: String) throws -> [UInt8]? {
    do {
      return try LocalFiles.readAll(path)
    } catch LocalStoreError.notFound {
      return nil
    }
  }
}
