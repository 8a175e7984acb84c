#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A message too large to hold in memory, kept in a private temporary file: created 0600 in
/// the spool directory and unlinked at once, so only this process can reach it and nothing
/// is left behind, even after a kill. The file is closed when the last reference goes.
///
/// Its content hash, size and header are worked out while it is written (`MessageSpooler`),
/// so nothing reads the whole message again to learn them.
public final class SpooledMessage: @unchecked Sendable {
  // @unchecked: every stored property is immutable after `MessageSpooler.finish`; reads go
  // through `pread`, which keeps no file offset, so threads may read it at once.
  fileprivate let descriptor: Int32
  /// Where the file was made (for error messages; the name itself is already gone).
  public let directory: String
  public let count: Int
  /// The SHA-256 of the line-ending-normalised bytes (`ContentHasher`).
  public let contentHash: SHA256Digest
  /// The size `MessageBytes.normalized` would give.
  public let normalizedCount: Int
  /// Line feeds without a CR before them (Unix line endings).
  public let bareLineFeeds: Int
  /// The first bytes of the message: its header section when that is shorter than
  /// `MessageSpooler.prefixLimit`.
  public let prefix: [UInt8]

  init(
    descriptor: Int32, directory: String, count: Int, contentHash: SHA256Digest, normalizedCount: Int,
    bareLineFeeds: Int, prefix: [UInt8]
  ) {
    self.bareLineFeeds = bareLineFeeds
    self.descriptor = descriptor
    self.directory = directory
    self.count = count
    self.contentHash = contentHash
    self.normalizedCount = normalizedCount
    self.prefix = prefix
  }

  deinit { close(descriptor) }

  /// Hands the bytes to `body` in order, `chunkSize` at a time, from one reusable buffer.
  public func forEachChunk(size chunkSize: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    var buffer = [UInt8](repeating: 0, count: Swift.min(chunkSize, Swift.max(count, 1)))
    var offset = 0
    while offset < count {
      let wanted = Swift.min(buffer.count, count - offset)
      let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(offset)) }
      if got < 0 && errno == EINTR { continue }
      guard got > 0 else {
        throw SpoolError(directory: directory, operation: "read back", errno: got < 0 ? errno : EIO)
      }
      try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
      offset += got
    }
  }
}

extension SpooledMessage {
  /// Up to `count` bytes from `offset` (fewer at the end).
  public func read(from offset: Int, count wanted: Int) throws -> [UInt8] {
    let length = Swift.max(0, Swift.min(wanted, count - offset))
    var bytes = [UInt8](repeating: 0, count: length)
    var filled = 0
    while filled < length {
      let got = bytes.withUnsafeMutableBytes {
        pread(descriptor, $0.baseAddress! + filled, length - filled, off_t(offset + filled))
      }
      if got < 0 && errno == EINTR { continue }
      guard got > 0 else {
        throw SpoolError(directory: directory, operation: "read back", errno: got < 0 ? errno : EIO)
      }
      filled += got
    }
    return bytes
  }
}

/// Writes one message into a fresh spool file as it arrives, hashing it and keeping its
/// first bytes on the way. One owner; `finish` hands the file over to a `SpooledMessage`.
public final class MessageSpooler {
  /// Bytes of the message's start kept in memory: enough for any real header section.
  public static let prefixLimit = 256 << 10

  private let descriptor: Int32
  private let directory: String
  private var hasher: ContentHasher? = ContentHasher()
  private var written = 0
  private var bareLineFeeds = 0
  private var previousWasCR = false
  private var lastByte: UInt8?
  private var prefix: [UInt8] = []
  private var finished = false

  /// Creates the file (0600) in `directory` and unlinks it at once.
  public init(directory: String) throws {
    var template = Array((directory.hasSuffix("/") ? directory : directory + "/").utf8CString.dropLast())
    template += Array("mailferry-spool-XXXXXX".utf8CString)
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else {
      throw SpoolError(directory: directory, operation: "create a spool file", errno: errno)
    }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
    self.descriptor = descriptor
    self.directory = directory
  }

  deinit {
    if !finished { close(descriptor) }
  }

  /// Adds the next bytes of the message.
  public func write(_ chunk: UnsafeRawBufferPointer) throws {
    guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
    var offset = 0
    while offset < chunk.count {
      let done = writeToFile(descriptor, base + offset, chunk.count - offset)
      if done < 0 && errno == EINTR { continue }
      guard done > 0 else { throw SpoolError(directory: directory, operation: "write", errno: done < 0 ? errno : EIO) }
      offset += done
    }
    hasher!.update(chunk)
    if prefix.count < Self.prefixLimit {
      prefix.append(contentsOf: chunk.prefix(Self.prefixLimit - prefix.count))
    }
    var previous = previousWasCR
    for byte in chunk {
      if byte == 0x0A && !previous { bareLineFeeds += 1 }
      previous = byte == 0x0D
    }
    previousWasCR = previous
    lastByte = chunk[chunk.count - 1]
    written += chunk.count
  }

  public func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  /// The spooled message; the file stays open for reading until it is released.
  public func finish() -> SpooledMessage {
    precondition(!finished, "a spool file is finished once")
    finished = true
    let normalizedCount = written + bareLineFeeds + (lastByte == nil || lastByte == 0x0A ? 0 : 2)
    return SpooledMessage(
      descriptor: descriptor, directory: directory, count: written, contentHash: hasher.take()!.finalize(),
      normalizedCount: normalizedCount, bareLineFeeds: bareLineFeeds, prefix: prefix)
  }

  /// Where spool files go: `$TMPDIR`, else `/tmp`.
  public static var defaultDirectory: String {
    if let value = getenv("TMPDIR"), let text = String(validatingCString: value), !text.isEmpty { return text }
    return "/tmp"
  }
}

/// A spool file could not be created, written or read (a full disk, a file size limit).
public struct SpoolError: UserFacingError, Equatable {
  public let directory: String
  public let operation: String
  public let errno: Int32

  public init(directory: String, operation: String, errno: Int32) {
    self.directory = directory
    self.operation = operation
    self.errno = errno
  }

  public var description: String {
    "spool file for a large message in \(directory): \(operation) failed: \(String(cString: strerror(errno)))"
  }

  public var hint: String? {
    switch errno {
    case EACCES, EPERM, EROFS, ENOENT, ENOTDIR:
      return "large messages are spooled to \(directory) while they are copied, and this user cannot write there: "
        + "give --spool-dir (or TMPDIR) a directory it can write, then run the same command again (nothing "
        + "committed was lost)"
    default:
      return "large messages are spooled to \(directory) while they are copied: free space there or give "
        + "--spool-dir (or TMPDIR) a directory with room, then run the same command again (nothing committed was lost)"
    }
  }

  /// The next large message would fail the same way.
  public var scope: FailureScope { .job }
  public var isTemporary: Bool { false }
  public var kind: FailureKind { .localIO }
}

/// `write(2)`, named apart from `MessageSpooler.write`.
private func writeToFile(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
  write(descriptor, bytes, count)
}
