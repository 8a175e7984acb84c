#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Message bytes compared the way MailFerry compares them across stores: every line ending
/// written as CRLF (as `ContentHasher` hashes them).
public enum MessageBytes {
  /// `bytes` with each bare LF written as CRLF, and a CRLF after a last line without one.
  public static func normalized(_ bytes: [UInt8]) -> [UInt8] {
    let size = normalizedSize(bytes)
    if size == bytes.count { return bytes }
    var output: [UInt8] = []
    output.reserveCapacity(size)
    bytes.withUnsafeBufferPointer { input in
      var start = 0
      for lineFeed in lineFeeds(input) {
        output.append(contentsOf: input[start..<lineFeed])
        if lineFeed == 0 || input[lineFeed - 1] != 0x0D { output.append(0x0D) }
        output.append(0x0A)
        start = lineFeed + 1
      }
      output.append(contentsOf: input[start...])
    }
    if let last = output.last, last != 0x0A { output += [0x0D, 0x0A] }
    return output
  }

  /// Whether some line ends in a LF without a CR before it (Unix line endings, as in mbox
  /// files and Maildirs written by Unix programs).
  public static func containsBareLineFeed(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBufferPointer { input in
      lineFeeds(input).contains { $0 == 0 || input[$0 - 1] != 0x0D }
    }
  }

  /// The size `normalized` would have, without building it.
  public static func normalizedSize(_ bytes: [UInt8]) -> Int {
    guard let last = bytes.last else { return 0 }
    var size = bytes.count + (last == 0x0A ? 0 : 2)
    bytes.withUnsafeBufferPointer { input in
      for lineFeed in lineFeeds(input) where lineFeed == 0 || input[lineFeed - 1] != 0x0D { size += 1 }
    }
    return size
  }

  /// The offsets of every LF, found with memchr.
  private static func lineFeeds(_ input: UnsafeBufferPointer<UInt8>) -> [Int] {
    guard let base = input.baseAddress else { return [] }
    var offsets: [Int] = []
    var from = 0
    while from < input.count, let found = memchr(base + from, 0x0A, input.count - from) {
      let offset = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
      offsets.append(offset)
      from = offset + 1
    }
    return offsets
  }

  /// Where two byte strings first differ: the offset and the byte each has there (nil past
  /// its end); nil when they are equal.
  public static func firstDifference(_ sent: [UInt8], _ stored: [UInt8]) -> ByteDifference? {
    let common = min(sent.count, stored.count)
    for index in 0..<common where sent[index] != stored[index] {
      return ByteDifference(offset: index, sent: sent[index], stored: stored[index])
    }
    if sent.count == stored.count { return nil }
    return ByteDifference(
      offset: common, sent: common < sent.count ? sent[common] : nil,
      stored: common < stored.count ? stored[common] : nil)
  }
}

/// The first byte at which a stored copy differs from what was sent.
public struct ByteDifference: Sendable, Equatable, CustomStringConvertible {
  public var offset: Int
  public var sent: UInt8?
  public var stored: UInt8?

  public init(offset: Int, sent: UInt8?, stored: UInt8?) {
    self.offset = offset
    self.sent = sent
    self.stored = stored
  }

  /// `byte 123: sent 0xE4, stored 0x58 'X'`.
  public var description: String {
    func show(_ byte: UInt8?) -> String {
      guard let byte else { return "nothing (it ends there)" }
      let hex = "0x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2, with: "0")
      return (0x21...0x7E).contains(byte) ? "\(hex) '\(Character(Unicode.Scalar(byte)))'" : hex
    }
    return "byte \(offset): sent \(show(sent)), stored \(show(stored))"
  }
}

extension MessageHeader {
  /// The header section of a message, through the empty line that ends it (or the whole
  /// message when there is none).
  public static func headerSection(of message: [UInt8]) -> [UInt8] {
    var index = 0
    while index < message.count {
      if message[index] == 0x0A {
        let next = index + 1
        if next < message.count && message[next] == 0x0A { return Array(message[...next]) }
        if next + 1 < message.count && message[next] == 0x0D && message[next + 1] == 0x0A {
          return Array(message[...(next + 1)])
        }
      }
      index += 1
    }
    return message
  }
}

extension String {
  fileprivate func leftPadded(to width: Int, with pad: Character) -> String {
    count >= width ? self : String(repeating: pad, count: width - count) + self
  }
}
