/// Splits a multi-line listing (CAPA, LIST, UIDL) into its lines as the bytes arrive:
/// dot-unstuffed, CR LF or LF taken off, empty lines dropped, and never more lines or longer
/// ones than `POP3ResponseLimits` allow, so an endless listing ends in an error, not in
/// memory exhaustion.
public struct ListingLineSplitter: Sendable {
  public let limits: POP3ResponseLimits
  private var decoder = DotUnstuffer()
  private var decoded: [UInt8] = []
  private var partial: [UInt8] = []
  private var lineCount = 0

  public init(limits: POP3ResponseLimits = POP3ResponseLimits()) { self.limits = limits }

  /// True once the terminating `.` line was read (and any last line handed out).
  public private(set) var finished = false

  /// Reads from `input`, appending completed lines to `lines`. Returns how many input bytes
  /// were used (fewer than all when the listing ended: the rest is the next reply).
  public mutating func feed(
    _ input: UnsafeRawBufferPointer, into lines: inout [[UInt8]]
  ) throws(POP3ParseError) -> Int {
    decoded.removeAll(keepingCapacity: true)
    let used = decoder.decode(input, into: &decoded)
    var start = 0
    for index in decoded.indices where decoded[index] == 0x0A {
      partial.append(contentsOf: decoded[start..<index])
      start = index + 1
      try emit(into: &lines)
    }
    partial.append(contentsOf: decoded[start...])
    guard partial.count <= limits.maxListingLineLength else {
      throw POP3ParseError.listingTooLarge(limit: "lines of \(limits.maxListingLineLength) bytes")
    }
    if decoder.finished {
      try emit(into: &lines)
      finished = true
    }
    return used
  }

  private mutating func emit(into lines: inout [[UInt8]]) throws(POP3ParseError) {
    defer { partial.removeAll(keepingCapacity: true) }
    if partial.last == 0x0D { partial.removeLast() }
    guard !partial.isEmpty else { return }
    guard partial.count <= limits.maxListingLineLength else {
      throw POP3ParseError.listingTooLarge(limit: "lines of \(limits.maxListingLineLength) bytes")
    }
    lineCount += 1
    guard lineCount <= limits.maxListingLines else {
      throw POP3ParseError.listingTooLarge(limit: "\(limits.maxListingLines) lines")
    }
    lines.append(partial)
  }
}
