#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Splits an mbox stream into records as `MboxSplitter` does, without holding a message:
/// the bytes of each message are handed on, mboxrd-unquoted, as they arrive. Only the
/// start of the current line is held while it may still be a separator (`From ` after an
/// empty line) or an empty line, whose line end belongs to the format when a record
/// follows; a separator line itself is held whole.
public struct MboxStreamSplitter {
  /// What the stream holds, in order: a record's start, its message bytes in pieces of
  /// any size, its end.
  public enum Event {
    /// The separator line (without its line end) and where it starts in the stream.
    case start(separator: String, offset: Int)
    /// The next bytes of the current message, unquoted; valid only during the call.
    case body(UnsafeRawBufferPointer)
    case end
  }

  private enum LineState {
    /// At most the first bytes of the line seen, held in `line`: not yet known what it is.
    case head
    /// A separator line, held whole until its line end.
    case separator
    /// A message line, passed on up to its line end.
    case body
    /// A line before the first record, counted in `leadingGarbage`.
    case garbage
  }

  private static let from: [UInt8] = Array("From ".utf8)

  private var state = LineState.head
  private var line: [UInt8] = []
  private var inRecord = false
  /// The last line was empty: its line end is held until it is known whether a record follows.
  private var heldEmptyLine: [UInt8]?
  private var unquoter = MboxrdQuoter(unquoting: true)
  private var pending: [UInt8] = []
  private var streamOffset = 0
  private var lineOffset = 0
  /// Bytes before the first `From ` line (not an mbox, or a damaged start).
  public private(set) var leadingGarbage = 0

  public init() {}

  /// Feeds bytes; `emit` gets every event they complete.
  public mutating func feed(_ chunk: UnsafeRawBufferPointer, emit: (Event) throws -> Void) rethrows {
    guard let base = chunk.baseAddress else { return }
    var index = 0
    while index < chunk.count {
      switch state {
      case .head:
        let byte = chunk[index]
        line.append(byte)
        index += 1
        if byte == 0x0A {
          try takeShortLine(emit: emit)
          startLine(at: streamOffset + index)
        } else if line.count == Self.from.count && line == Self.from && (!inRecord || heldEmptyLine != nil) {
          state = .separator
        } else if !Self.from.starts(with: line) && line != [0x0D] {
          decideLineIsContent()
        }
      case .separator:
        let end = Self.lineEnd(base, from: index, count: chunk.count)
        line.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[index..<(end ?? chunk.count)]))
        guard let end else {
          index = chunk.count
          continue
        }
        index = end + 1
        line.append(0x0A)
        try startRecord(emit: emit)
        startLine(at: streamOffset + index)
      case .body, .garbage:
        let end = Self.lineEnd(base, from: index, count: chunk.count)
        let stop = end.map { $0 + 1 } ?? chunk.count
        if state == .body {
          unquoter.quote(UnsafeRawBufferPointer(rebasing: chunk[index..<stop]), into: &pending)
        } else {
          leadingGarbage += stop - index
        }
        index = stop
        if end != nil { startLine(at: streamOffset + index) }
      }
    }
    streamOffset += chunk.count
    try flushBody(emit: emit)
  }

  /// Ends the stream: the last line, and the end of the last record.
  public mutating func finish(emit: (Event) throws -> Void) rethrows {
    switch state {
    case .head where !line.isEmpty: try takeShortLine(emit: emit)
    case .separator: try startRecord(emit: emit)
    default: break
    }
    if inRecord {
      unquoter.finish(into: &pending)
      try flushBody(emit: emit)
      try emit(.end)
    }
    inRecord = false
    heldEmptyLine = nil
    line = []
    state = .head
  }

  // MARK: Lines

  private mutating func startLine(at offset: Int) {
    state = .head
    line.removeAll(keepingCapacity: true)
    lineOffset = offset
  }

  /// The held start of the line is message bytes (or garbage before the first record).
  private mutating func decideLineIsContent() {
    guard inRecord else {
      leadingGarbage += line.count
      state = .garbage
      return
    }
    releaseHeldEmptyLine()
    line.withUnsafeBytes { unquoter.quote($0, into: &pending) }
    state = .body
  }

  /// A whole line shorter than `From `: an empty line is held, another is message bytes.
  private mutating func takeShortLine(emit: (Event) throws -> Void) rethrows {
    guard inRecord else {
      leadingGarbage += line.count
      return
    }
    releaseHeldEmptyLine()
    if line == [0x0A] || line == [0x0D, 0x0A] {
      heldEmptyLine = line
    } else {
      line.withUnsafeBytes { unquoter.quote($0, into: &pending) }
    }
  }

  private mutating func releaseHeldEmptyLine() {
    guard let held = heldEmptyLine else { return }
    heldEmptyLine = nil
    held.withUnsafeBytes { unquoter.quote($0, into: &pending) }
  }

  /// A separator line: the record before it ends (its held empty line belongs to the
  /// format), the next one starts.
  private mutating func startRecord(emit: (Event) throws -> Void) rethrows {
    if inRecord {
      unquoter.finish(into: &pending)
      try flushBody(emit: emit)
      try emit(.end)
    }
    var text = line[...]
    while let last = text.last, last == 0x0A || last == 0x0D { text.removeLast() }
    inRecord = true
    heldEmptyLine = nil
    unquoter = MboxrdQuoter(unquoting: true)
    try emit(.start(separator: String(decoding: text, as: UTF8.self), offset: lineOffset))
  }

  private mutating func flushBody(emit: (Event) throws -> Void) rethrows {
    guard !pending.isEmpty else { return }
    try pending.withUnsafeBytes { try emit(.body($0)) }
    pending.removeAll(keepingCapacity: true)
  }

  private static func lineEnd(_ base: UnsafeRawPointer, from index: Int, count: Int) -> Int? {
    guard let found = memchr(base + index, 0x0A, count - index) else { return nil }
    return base.distance(to: UnsafeRawPointer(found))
  }
}
