import MailCore

/// The mbox splitter as it was before it streamed (whole lines, the message unquoted at its
/// end): the model `MboxStreamSplitter` is checked against.
struct LineMboxSplitter {
  /// One message: its separator line (without the line end), where that line starts in the
  /// stream, and the unquoted message bytes.
  struct Record: Sendable, Equatable {
    var separator: String
    var offset: Int
    var message: [UInt8]
  }

  private var pendingLine: [UInt8] = []
  private var separator: String?
  private var recordOffset = 0
  private var body: [UInt8] = []
  /// The previous line was empty; its line end is held back until we know whether a new
  /// record follows.
  private var heldEmptyLine: [UInt8]?
  private var streamOffset = 0
  private var lineOffset = 0
  /// Bytes before the first `From ` line (not an mbox, or a damaged start).
  private(set) var leadingGarbage = 0

  init() {}

  /// Feeds bytes; `emit` gets every record completed by them.
  mutating func feed<Bytes: Collection>(_ bytes: Bytes, emit: (Record) throws -> Void) rethrows
  where Bytes.Element == UInt8 {
    for byte in bytes {
      pendingLine.append(byte)
      streamOffset += 1
      if byte == 0x0A {
        try takeLine(emit: emit)
        lineOffset = streamOffset
      }
    }
  }

  /// Ends the stream: emits the last record.
  mutating func finish(emit: (Record) throws -> Void) rethrows {
    if !pendingLine.isEmpty { try takeLine(emit: emit) }
    if let separator {
      // The final empty line, if any, closes the format; it is not part of the message.
      try emit(Record(separator: separator, offset: recordOffset, message: Mboxrd.unquote(body)))
    }
    separator = nil
    body = []
    heldEmptyLine = nil
  }

  private mutating func takeLine(emit: (Record) throws -> Void) rethrows {
    let line = pendingLine
    pendingLine = []
    let startsRecord =
      line.starts(with: [0x46, 0x72, 0x6F, 0x6D, 0x20]) && (separator == nil ? body.isEmpty : heldEmptyLine != nil)
    if startsRecord {
      if let separator {
        try emit(Record(separator: separator, offset: recordOffset, message: Mboxrd.unquote(body)))
      }
      var text = line
      while let last = text.last, last == 0x0A || last == 0x0D { text.removeLast() }
      separator = String(decoding: text, as: UTF8.self)
      recordOffset = lineOffset
      body = []
      heldEmptyLine = nil
      return
    }
    guard separator != nil else {
      leadingGarbage += line.count
      return
    }
    if let held = heldEmptyLine {
      body.append(contentsOf: held)
      heldEmptyLine = nil
    }
    if line == [0x0A] || line == [0x0D, 0x0A] {
      heldEmptyLine = line
    } else {
      body.append(contentsOf: line)
    }
  }
}
