/// A message's bytes: in memory, or spooled to a private temporary file when it is larger
/// than the job holds in memory (docs/architecture.md, "How bodies flow"). Sinks write a
/// spooled body from its file in chunks; only what needs the header reads `headerBytes`.
public enum MessageBody: Sendable, Equatable {
  case inMemory([UInt8])
  case spooled(SpooledMessage)

  /// Chunks of a spooled body handed to sinks.
  public static let chunkSize = 1 << 20

  public var count: Int {
    switch self {
    case .inMemory(let bytes): return bytes.count
    case .spooled(let spool): return spool.count
    }
  }

  public var isSpooled: Bool {
    if case .spooled = self { return true }
    return false
  }

  /// The start of the message, holding at least its header section when that is shorter
  /// than `MessageSpooler.prefixLimit` (the whole message when it is in memory).
  public var headerBytes: [UInt8] {
    switch self {
    case .inMemory(let bytes): return bytes
    case .spooled(let spool): return spool.prefix
    }
  }

  /// SHA-256 of the line-ending-normalised bytes.
  public var contentHash: SHA256Digest {
    switch self {
    case .inMemory(let bytes): return ContentHasher.hash(bytes)
    case .spooled(let spool): return spool.contentHash
    }
  }

  /// The size with every line ending written as CRLF.
  public var normalizedCount: Int {
    switch self {
    case .inMemory(let bytes): return MessageBytes.normalizedSize(bytes)
    case .spooled(let spool): return spool.normalizedCount
    }
  }

  /// Hands the bytes to `body` in order: once for a body in memory, in chunks of at most
  /// `chunkSize` for a spooled one.
  public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
    switch self {
    case .inMemory(let bytes): try bytes.withUnsafeBytes { try body($0) }
    case .spooled(let spool): try spool.forEachChunk(size: Self.chunkSize, body)
    }
  }

  /// Every byte in one array, for callers that want them so (`MessageSource.fetch`, tests).
  /// A spooled body is read whole, so its size is in memory for as long as the caller
  /// keeps it.
  public func wholeBytes() throws -> [UInt8] {
    switch self {
    case .inMemory(let bytes): return bytes
    case .spooled(let spool):
      var bytes: [UInt8] = []
      bytes.reserveCapacity(spool.count)
      try spool.forEachChunk(size: Self.chunkSize) { bytes.append(contentsOf: $0) }
      return bytes
    }
  }

  /// The same message with every bare LF written as CRLF (IMAP APPEND wants CRLF): a body
  /// in memory is rewritten in memory, a spooled one into a new spool file beside it.
  public func normalizingLineEndings() throws -> MessageBody {
    switch self {
    case .inMemory(let bytes): return .inMemory(MessageBytes.normalized(bytes))
    case .spooled(let spool):
      guard spool.normalizedCount != spool.count else { return self }
      let spooler = try MessageSpooler(directory: spool.directory)
      var previousWasCR = false
      var lastByte: UInt8?
      var converted: [UInt8] = []
      try spool.forEachChunk(size: Self.chunkSize) { chunk in
        converted.removeAll(keepingCapacity: true)
        for byte in chunk {
          if byte == 0x0A && !previousWasCR { converted.append(0x0D) }
          converted.append(byte)
          previousWasCR = byte == 0x0D
        }
        lastByte = chunk.last
        try spooler.write(converted)
      }
      if let lastByte, lastByte != 0x0A { try spooler.write([0x0D, 0x0A]) }
      return .spooled(spooler.finish())
    }
  }

  public static func == (lhs: MessageBody, rhs: MessageBody) -> Bool {
    switch (lhs, rhs) {
    case (.inMemory(let left), .inMemory(let right)): return left == right
    case (.spooled(let left), .spooled(let right)): return left === right
    default: return false
    }
  }
}
