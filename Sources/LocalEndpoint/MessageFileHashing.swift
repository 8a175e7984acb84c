import MailCore
import Mailstore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Hashes a message kept in a file of its own (Maildir, .eml) without reading it whole.
enum MessageFileHashing {
  /// Enough of a message to find its Message-ID header.
  static let headerLimit = 64 * 1024

  /// Content hash and Message-ID of the message in `path`; nil when the file is gone.
  static func fingerprint(_ path: String) throws -> (sha256: SHA256Digest, messageID: MessageID?)? {
    let file: LocalFile
    do {
      file = try LocalFile(path: path, flags: O_RDONLY)
    } catch LocalStoreError.notFound {
      return nil
    }
    var hasher = ContentHasher()
    var header: [UInt8] = []
    var offset: UInt64 = 0
    while true {
      let chunk = try file.read(from: offset, count: 1 << 20)
      if chunk.isEmpty { break }
      hasher.update(chunk)
      if header.count < headerLimit { header += chunk.prefix(headerLimit - header.count) }
      offset += UInt64(chunk.count)
    }
    return (hasher.finalize(), MessageID(message: header))
  }

  /// A stored message file read back to `depth`, a chunk at a time (the header kept up to
  /// `StoredCopy.headerLimit`, as `StoredCopy(bytes:depth:)` keeps it); nil when the file
  /// is gone.
  static func storedCopy(_ path: String, depth: ReadBackDepth) throws -> StoredCopy? {
    if depth == .size { return try LocalFiles.status(path).map { StoredCopy(size: $0.size) } }
    let file: LocalFile
    do {
      file = try LocalFile(path: path, flags: O_RDONLY)
    } catch LocalStoreError.notFound {
      return nil
    }
    var hasher = ContentHasher()
    var start: [UInt8] = []
    var offset: UInt64 = 0
    while depth >= .content || start.count < StoredCopy.headerLimit {
      let chunk = try file.read(from: offset, count: 1 << 20)
      if chunk.isEmpty { break }
      if depth >= .content { hasher.update(chunk) }
      if start.count < StoredCopy.headerLimit { start += chunk.prefix(StoredCopy.headerLimit - start.count) }
      offset += UInt64(chunk.count)
    }
    return StoredCopy(
      size: depth >= .content ? offset : try file.size(),
      header: Array(MessageHeader.headerSection(of: start).prefix(StoredCopy.headerLimit)),
      sha256: depth >= .content ? hasher.finalize() : nil)
  }

  /// The bytes of the file at `path`; nil when it is gone.
  static func contents(_ path: String) throws -> [UInt8]? {
    do {
      return try LocalFiles.readAll(path)
    } catch LocalStoreError.notFound {
      return nil
    }
  }
}
