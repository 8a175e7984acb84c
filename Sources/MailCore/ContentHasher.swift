#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Hashes a message the way MailFerry compares messages across servers and protocols:
/// SHA-256 of its bytes with every line ending written as CRLF.
///
/// Normalisation: a LF not preceded by CR becomes CRLF, and a last line without a line
/// ending gets CRLF. So the same message hashes alike whether it came over IMAP (exact
/// bytes), POP3 or SMTP (dot-terminated, always ending in CRLF) or from a Unix mbox
/// (LF endings). Bytes are fed in chunks of any size; memory stays constant.
public struct ContentHasher: ~Copyable {
  private var hasher = SHA256Hasher()
  private var previousWasCR = false
  private var lastByte: UInt8?
  public private(set) var rawByteCount = 0

  public init() {}

  /// Hashes runs between bare LFs straight from `chunk` (no copy): a CRLF message is one
  /// update per chunk; a bare LF adds the CR before it.
  public mutating func update(_ chunk: UnsafeRawBufferPointer) {
    guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
    rawByteCount += chunk.count
    var runStart = 0
    var searchFrom = 0
    while searchFrom < chunk.count,
      let found = memchr(base + searchFrom, 0x0A, chunk.count - searchFrom)
    {
      let index = base.distance(to: UnsafeRawPointer(found))
      let precededByCR = index > 0 ? chunk[index - 1] == 0x0D : previousWasCR
      if !precededByCR {
        hasher.update(UnsafeRawBufferPointer(rebasing: chunk[runStart..<index]))
        withUnsafeBytes(of: UInt8(0x0D)) { hasher.update($0) }
        runStart = index
      }
      searchFrom = index + 1
    }
    hasher.update(UnsafeRawBufferPointer(rebasing: chunk[runStart..<chunk.count]))
    lastByte = chunk[chunk.count - 1]
    previousWasCR = lastByte == 0x0D
  }

  public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
    let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
    if handled == nil {
      let copy = Array(bytes)
      copy.withUnsafeBytes { update($0) }
    }
  }

  public consuming func finalize() -> SHA256Digest {
    if let lastByte, lastByte != 0x0A {
      [UInt8(0x0D), 0x0A].withUnsafeBytes { hasher.update($0) }
    }
    return hasher.finalize()
  }

  /// The content hash of a whole message in memory.
  public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> SHA256Digest where Bytes.Element == UInt8 {
    var hasher = ContentHasher()
    hasher.update(bytes)
    return hasher.finalize()
  }
}
