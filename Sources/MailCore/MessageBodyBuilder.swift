/// Collects a message's bytes as they arrive: in memory while they stay within
/// `threshold`, in a spool file from the chunk that passes it on (the bytes kept so far
/// move there first). So what decides is the bytes received, not a size announced before
/// them (a POP3 LIST of 0, a file that grew since it was listed).
public final class MessageBodyBuilder {
  /// Bodies above this many bytes are spooled; `Int.max` keeps every body in memory.
  public let threshold: Int
  public let directory: String
  private var bytes: [UInt8] = []
  private var spooler: MessageSpooler?
  public private(set) var count = 0

  /// `expected` (a listed size) above the threshold spools from the first byte.
  public init(threshold: Int, directory: String, expected: Int? = nil) throws {
    self.threshold = threshold
    self.directory = directory
    if let expected, expected > threshold { spooler = try MessageSpooler(directory: directory) }
  }

  public var isSpooling: Bool { spooler != nil }

  public func append(_ chunk: UnsafeRawBufferPointer) throws {
    guard !chunk.isEmpty else { return }
    count += chunk.count
    if spooler == nil && count > threshold {
      let spooler = try MessageSpooler(directory: directory)
      try spooler.write(bytes)
      bytes = []
      self.spooler = spooler
    }
    if let spooler {
      try spooler.write(chunk)
    } else {
      bytes.append(contentsOf: chunk)
    }
  }

  public func append(_ chunk: [UInt8]) throws {
    try chunk.withUnsafeBytes { try append($0) }
  }

  /// The body; the builder is spent.
  public func finish() -> MessageBody {
    if let spooler {
      self.spooler = nil
      return .spooled(spooler.finish())
    }
    defer { bytes = [] }
    return .inMemory(bytes)
  }
}
