import Archive
import MailCore
import Mailstore

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
        receivedDate: $0.internalDate.map { [zone = $0.zoneMinutes] in
          ReceivedDate(secondsSince1970: $0, zoneMinutes: zone)
        },
        size: UInt64($0.size))
    }
  }

  public func fetch(_ keys: [UInt32]) throws -> [UInt32: [UInt8]] {
    let result = try fetchReadable(keys)
    if let (uid, reason) = result.unreadable.min(by: { $0.key < $1.key }) {
      throw ArchiveError.unreadable(path: archive.layout.root, offset: 0, reason: "UID \(uid): \(reason)")
    }
    return result.bodies
  }

  /// Reads each gzip member once; when one is damaged, its messages are read one by one so
  /// that only those that cannot be read are reported, with the file and offset.
  public func fetchReadable(_ keys: [UInt32]) throws -> (bodies: [UInt32: [UInt8]], unreadable: [UInt32: String]) {
    let messages = try archive.messages(try openFolder(), uids: keys)
    // A catalog naming files outside the archive stops the job, not one message at a time.
    for message in messages {
      _ = try archive.layout.dataPath(directory: message.location.directory, file: message.location.file)
    }
    var bodies: [UInt32: [UInt8]] = [:]
    var unreadable: [UInt32: String] = [:]
    func take(_ message: ArchivedMessage, _ bytes: [UInt8]) {
      if ContentHasher.hash(bytes) == message.sha256 {
        bodies[message.uid] = bytes
      } else {
        unreadable[message.uid] = mismatch(message)
      }
    }
    if let all = try? archive.read(messages) {
      for (message, bytes) in zip(messages, all) { take(message, bytes) }
      return (bodies, unreadable)
    }
    for message in messages {
      do {
        take(message, try archive.read([message])[0])
      } catch {
        unreadable[message.uid] = "\(error)"
      }
    }
    return (bodies, unreadable)
  }

  /// Messages above the policy's threshold are inflated straight into spool files, one at
  /// a time, and checked against their SHA-256; the others are read as `fetchReadable`
  /// reads them. A spool file that cannot be written stops the job (`SpoolError`).
  public func fetchBodies(
    _ keys: [UInt32], within limits: MessageSizeLimits, spooling policy: SpoolPolicy
  ) throws -> (bodies: [UInt32: MessageBody], unreadable: [UInt32: String]) {
    let large = try archive.messages(try openFolder(), uids: keys).filter { policy.spools(size: UInt64($0.size)) }
    let largeKeys = Set(large.map(\.uid))
    let (small, smallUnreadable) = try fetchReadable(keys.filter { !largeKeys.contains($0) }, within: limits)
    var bodies = small.mapValues { MessageBody.inMemory($0) }
    var unreadable = smallUnreadable
    for message in large {
      if let reason = limits.reason(key: message.uid, received: UInt64(message.size)) {
        unreadable[message.uid] = reason
        continue
      }
      do {
        let spool = try archive.spool(message, directory: policy.directory)
        if spool.contentHash == message.sha256 {
          bodies[message.uid] = .spooled(spool)
        } else {
          unreadable[message.uid] = mismatch(message)
        }
      } catch let error as SpoolError {
        throw error
      } catch {
        unreadable[message.uid] = "\(error)"
      }
    }
    return (bodies, unreadable)
  }

  private func mismatch(_ message: ArchivedMessage) -> String {
    "\(path(of: message)): the message at byte \(message.location.recordOffset) of "
      + "the gzip member at byte \(message.location.memberOffset) does not match its SHA-256"
  }

  private func path(of message: ArchivedMessage) -> String {
    (try? archive.layout.dataPath(directory: message.location.directory, file: message.location.file))
      ?? archive.layout.root
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
