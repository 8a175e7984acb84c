import Archive
import IMAPCodec
import MailCore

/// An archive directory as a `MessageSource` (`mailferry restore`, `export`): folders, UIDs,
/// flags and dates as the catalog has them, bytes read back from the gzip members and
/// checked against their SHA-256 (a damaged message is an error, never silently restored).
public final class ArchiveSource: MessageSource, @unchecked Sendable {
  public let archive: Archive
  private var current: ArchiveFolder?

  public init(_ archive: Archive) { self.archive = archive }

  public func folders() throws -> [FolderDescriptor] {
    try archive.folders().map { FolderDescriptor(name: $0.name, separator: "/", specialUse: $0.specialUse) }
  }

  public func personalPrefix() throws -> String { "" }

  public func messageCount(_ folder: String) throws -> Int {
    guard let folder = try archive.folder(named: folder) else { return 0 }
    return try archive.messageCount(folder)
  }

  public func open(_ folder: String, keyMap: any SourceKeyMap) throws -> SourceFolderState {
    guard let found = try archive.folder(named: folder) else { throw ArchiveError.noSuchFolder(name: folder) }
    current = found
    return SourceFolderState(validity: found.validity, highestModSeq: nil, count: try archive.messageCount(found))
  }

  private func openFolder() throws -> ArchiveFolder {
    guard let current else { throw ArchiveError.noSuchFolder(name: "(none open)") }
    return current
  }

  public func keys(after: UInt32) throws -> [UInt32] { try archive.uids(try openFolder(), after: after) }

  public func metadata(_ keys: [UInt32]) throws -> [SourceMessage] {
    try archive.messages(try openFolder(), uids: keys).map {
      SourceMessage(
        key: $0.uid, flags: $0.flags,
        internalDate: $0.internalDate.map { [zone = $0.zoneMinutes] in IMAPDate(secondsSince1970: $0, zoneMinutes: zone)
        },
        size: UInt64($0.size))
    }
  }

  public func fetch(_ keys: [UInt32]) throws -> [UInt32: [UInt8]] {
    let messages = try archive.messages(try openFolder(), uids: keys)
    let bodies = try archive.read(messages)
    var result: [UInt32: [UInt8]] = [:]
    for (message, bytes) in zip(messages, bodies) {
      guard ContentHasher.hash(bytes) == message.sha256 else {
        throw ArchiveError.unreadable(
          path: archive.layout.dataPath(directory: message.location.directory, file: message.location.file),
          offset: message.location.memberOffset, reason: "UID \(message.uid) does not match its SHA-256")
      }
      result[message.uid] = bytes
    }
    return result
  }

  public func flags(changedSince modSeq: UInt64?) throws -> [SourceFlags] {
    try archive.allMessages(try openFolder()).map { SourceFlags(key: $0.uid, flags: $0.flags) }
  }

  public func remove(_ keys: [UInt32]) throws -> RemovalResult {
    .markedOnly(reason: "an archive keeps what it holds; nothing was removed from it")
  }

  public func close() { current = nil }
  public func abandon() { current = nil }
}
