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
  private var buffer = [UInt8]()
  public private(set) var rawByteCount = 0

  public init() { buffer.reserveCapacity(64 * 1024) }

  public mutating func update(_ chunk: UnsafeRawBufferPointer) {
    guard !chunk.isEmpty else { return }
    rawByteCount += chunk.count
    var runStart = 0
    for index in 0..<chunk.count {
      let byte = chunk[index]
      if byte == 0x0A && !previousWasCR {
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[runStart..<index]))
        buffer.append(0x0D)
        runStart = index
      }
      previousWasCR = byte == 0x0D
    }
    buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[runStart..<chunk.count]))
    lastByte = chunk[chunk.count - 1]
    if buffer.count >= 64 * 1024 { flushBuffer() }
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
      buffer.append(contentsOf: [0x0D, 0x0A])
    }
    flushBuffer()
    return hasher.finalize()
  }

  private mutating func flushBuffer() {
    buffer.withUnsafeBytes { hasher.update($0) }
    buffer.removeAll(keepingCapacity: true)
  }

  /// The content hash of a whole message in memory.
  public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> SHA256Digest where Bytes.Element == UInt8 {
    var hasher = ContentHasher()
    hasher.update(bytes)
    return hasher.finalize()
  }
}
