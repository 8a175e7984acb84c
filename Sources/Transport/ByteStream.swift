/// One layer of a connection: plain socket, TLS, or DEFLATE on top of either.
///
/// Reads and writes block the calling thread until done or until `deadline`, so a
/// stream is driven by the one thread that owns its connection.
protocol ByteStream: AnyObject {
  /// Reads at least one byte into `buffer`; returns 0 at the peer's orderly end of stream.
  func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws -> Int
  /// Writes all of `bytes`.
  func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws
  /// True when bytes are already decoded and waiting inside this layer.
  var hasBufferedInput: Bool { get }
  func close()
}

/// A point in monotonic time after which an operation fails with a timeout.
struct Deadline {
  let instant: ContinuousClock.Instant
  let timeout: Duration

  static func after(_ timeout: Duration) -> Deadline {
    Deadline(instant: .now + timeout, timeout: timeout)
  }

  /// Milliseconds left, for poll(2): never negative.
  var remainingMilliseconds: Int32 {
    let left = instant - .now
    if left <= .zero { return 0 }
    let (seconds, attoseconds) = left.components
    return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
  }

  var timeoutSeconds: Double {
    Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
  }
}
