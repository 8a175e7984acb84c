import Foundation

/// A `TCPProxy` transform that passes bytes on at `bytesPerSecond`, like a slow link: each
/// piece waits as long as the link would take to carry it.
public struct SlowLink: ByteTransform {
  public let bytesPerSecond: Int

  public init(bytesPerSecond: Int) { self.bytesPerSecond = bytesPerSecond }

  public mutating func process(_ bytes: [UInt8]) -> [UInt8] {
    let seconds = Double(bytes.count) / Double(bytesPerSecond)
    if seconds > 0 { usleep(UInt32(min(seconds, 10) * 1_000_000)) }
    return bytes
  }
}
