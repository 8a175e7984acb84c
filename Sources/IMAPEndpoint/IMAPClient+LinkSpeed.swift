import Foundation
import Transport

/// Bytes moved and time spent in transfers, until `.automatic` compression decides.
struct LinkSample {
  var bytes = 0
  var seconds = 0.0
  var decided = false
}

/// `.automatic` compression: the session starts without COMPRESS=DEFLATE and measures its
/// first message transfers; if the link moves less than `slowLink` bytes a second, it turns
/// compression on (RFC 4978 allows it at any point after login between commands). On a
/// fast link deflating costs both ends more CPU than it saves in transfer time.
extension IMAPClient {
  /// Below this rate a link is slow enough for compression to pay: mail deflates to about
  /// a third, and deflating is many times faster than this on any machine. Uploads count
  /// half: an APPEND's time includes the server storing the message (and often an fsync).
  public static let slowLink = 6 << 20
  /// Enough transfer to judge the link by: 1 MiB, or 2 seconds with at least 64 KiB.
  static let sampleBytes = 1 << 20
  static let sampleSeconds = 2.0

  /// Runs a message transfer (a FETCH of bodies, an APPEND batch) and, while `.automatic`
  /// compression is undecided, counts its bytes and time; turns compression on when the
  /// sample is big enough and the rate low.
  public func measuringLinkSpeed<T>(uploading: Bool = false, _ transfer: () throws -> T) throws -> T {
    guard account.compression == .automatic, !linkSample.decided, has("COMPRESS=DEFLATE") else {
      return try transfer()
    }
    let started = ContinuousClock.now
    let before = connection.bytesReceived + connection.bytesSent
    let result = try transfer()
    let elapsed = (ContinuousClock.now - started).components
    linkSample.bytes += connection.bytesReceived + connection.bytesSent - before
    linkSample.seconds += Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    let enough =
      linkSample.bytes >= Self.sampleBytes || (linkSample.seconds >= Self.sampleSeconds && linkSample.bytes >= 64 << 10)
    guard enough else { return result }
    linkSample.decided = true
    let rate = Double(linkSample.bytes) / max(linkSample.seconds, 1e-6)
    let threshold = Self.compressionThreshold(uploading: uploading)
    let shown = String(format: "%.1f MB/s", rate / 1e6)
    if Self.compressionPays(rate: rate, uploading: uploading), try startCompression() {
      connection.note("COMPRESS=DEFLATE on: the link moved \(shown), below \(threshold >> 20) MiB/s")
    } else {
      connection.note("COMPRESS=DEFLATE left off: the link moved \(shown), at least \(threshold >> 20) MiB/s")
    }
    return result
  }

  static func compressionThreshold(uploading: Bool) -> Int { uploading ? slowLink / 2 : slowLink }

  /// Whether a link measured at `rate` bytes a second is slow enough for compression.
  public static func compressionPays(rate: Double, uploading: Bool) -> Bool {
    rate < Double(compressionThreshold(uploading: uploading))
  }
}
