/// Splits an mbox stream into messages, fed in chunks of any size. A record starts with a
/// `From ` line at the start of the stream or after an empty line; the empty line before
/// the next record (or at the end) belongs to the format, not the message. Messages are
/// handed over mboxrd-unquoted. Memory holds one message at a time; `MboxStreamSplitter`
/// (which this collects from) holds none.
public struct MboxSplitter {
  /// One message: its separator line (without the line end), where that line starts in the
  /// stream, and the unquoted message bytes.
  public struct Record: Sendable, Equatable {
    public var separator: String
    public var offset: Int
    public var message: [UInt8]

    public init(separator: String, offset: Int, message: [UInt8]) {
      self.separator = separator
      self.offset = offset
      self.message = message
    }
  }

  private var stream = MboxStreamSplitter()
  private var record: Record?

  /// Bytes before the first `From ` line (not an mbox, or a damaged start).
  public var leadingGarbage: Int { stream.leadingGarbage }

  public init() {}

  /// Feeds bytes; `emit` gets every record completed by them.
  public mutating func feed<Bytes: Collection>(_ bytes: Bytes, emit: (Record) throws -> Void) rethrows
  where Bytes.Element == UInt8 {
    let contiguous = bytes as? [UInt8] ?? Array(bytes)
    var record = self.record
    try contiguous.withUnsafeBytes { chunk in
      try stream.feed(chunk) { try Self.collect($0, into: &record, emit: emit) }
    }
    self.record = record
  }

  /// Ends the stream: emits the last record.
  public mutating func finish(emit: (Record) throws -> Void) rethrows {
    var record = self.record
    try stream.finish { try Self.collect($0, into: &record, emit: emit) }
    self.record = nil
  }

  private static func collect(
    _ event: MboxStreamSplitter.Event, into record: inout Record?, emit: (Record) throws -> Void
  ) rethrows {
    switch event {
    case .start(let separator, let offset): record = Record(separator: separator, offset: offset, message: [])
    case .body(let bytes): record?.message.append(contentsOf: bytes)
    case .end:
      if let done = record { try emit(done) }
      record = nil
    }
  }
}
