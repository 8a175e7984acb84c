import Foundation

/// One direction of a slow link that every connection through it shares, as on a real
/// line: bytes leave at `bytesPerSecond` in all, however many connections send. Hand the
/// same instance to several `TCPProxy`s (through `transform()`) to put them behind one link.
public final class SharedLink: @unchecked Sendable {
  public let bytesPerSecond: Int
  private let lock = NSLock()
  /// When the link is free again, in seconds of the monotonic clock.
  private var freeAt = 0.0

  public init(bytesPerSecond: Int) { self.bytesPerSecond = bytesPerSecond }

  /// A transform for one connection's direction through this link.
  public func transform() -> any ByteTransform { Passage(link: self) }

  /// Books `count` bytes on the link and returns when they have gone through.
  func carry(_ count: Int) {
    let now = Self.now()
    lock.lock()
    let start = max(now, freeAt)
    freeAt = start + Double(count) / Double(bytesPerSecond)
    let done = freeAt
    lock.unlock()
    let wait = done - now
    if wait > 0 { usleep(UInt32(min(wait, 10) * 1_000_000)) }
  }

  private static func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }

  private struct Passage: ByteTransform {
    let link: SharedLink

    mutating func process(_ bytes: [UInt8]) -> [UInt8] {
      link.carry(bytes.count)
      return bytes
    }
  }
}
