extension MessageBody {
  /// Where `stored` first differs from this body, line endings aside (as
  /// `MessageBytes.firstDifference` of both normalised), read in chunks so neither is held
  /// whole; nil when they are equal.
  public func firstDifference(from stored: MessageBody) throws -> ByteDifference? {
    var sent = NormalizedChunks(self)
    var copy = NormalizedChunks(stored)
    var left: [UInt8] = []
    var right: [UInt8] = []
    var leftIndex = 0
    var rightIndex = 0
    var offset = 0
    while true {
      if leftIndex == left.count, let next = try sent.next() {
        left = next
        leftIndex = 0
      }
      if rightIndex == right.count, let next = try copy.next() {
        right = next
        rightIndex = 0
      }
      let leftHas = leftIndex < left.count
      let rightHas = rightIndex < right.count
      guard leftHas && rightHas else {
        if !leftHas && !rightHas { return nil }
        return ByteDifference(
          offset: offset, sent: leftHas ? left[leftIndex] : nil, stored: rightHas ? right[rightIndex] : nil)
      }
      let common = min(left.count - leftIndex, right.count - rightIndex)
      for step in 0..<common where left[leftIndex + step] != right[rightIndex + step] {
        return ByteDifference(offset: offset + step, sent: left[leftIndex + step], stored: right[rightIndex + step])
      }
      leftIndex += common
      rightIndex += common
      offset += common
    }
  }
}

/// A body's bytes with every line ending written as CRLF (`MessageBytes.normalized`), a
/// chunk at a time.
private struct NormalizedChunks {
  static let chunkSize = 256 << 10

  let body: MessageBody
  var offset = 0
  var previousWasCR = false
  var lastByte: UInt8?
  var ended = false

  init(_ body: MessageBody) { self.body = body }

  /// The next chunk, never empty; nil after the last.
  mutating func next() throws -> [UInt8]? {
    guard !ended else { return nil }
    let raw: [UInt8]
    switch body {
    case .inMemory(let bytes): raw = Array(bytes[offset..<min(offset + Self.chunkSize, bytes.count)])
    case .spooled(let spool): raw = try spool.read(from: offset, count: Self.chunkSize)
    }
    guard !raw.isEmpty else {
      ended = true
      if let lastByte, lastByte != 0x0A { return [0x0D, 0x0A] }
      return nil
    }
    offset += raw.count
    var out: [UInt8] = []
    out.reserveCapacity(raw.count + raw.count / 32)
    for byte in raw {
      if byte == 0x0A && !previousWasCR { out.append(0x0D) }
      out.append(byte)
      previousWasCR = byte == 0x0D
    }
    lastByte = raw.last
    return out
  }
}
