import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A hostile loopback server for deadline tests: to each connection it sends `opening` at
/// once, then `dribble` one byte every `interval`, forever (until the client hangs up or the
/// server is released). Each connection is served on a thread of its own.
public final class DribblingServer: @unchecked Sendable {
  public let port: Int
  private let fd: Int32
  private let opening: [UInt8]
  private let dribble: [UInt8]
  private let interval: Duration
  private let stopped = NSLock()
  private var isStopped = false

  public init(opening: String, dribble: String, interval: Duration = .milliseconds(100)) throws {
    self.opening = Array(opening.utf8)
    self.dribble = Array(dribble.utf8)
    self.interval = interval
    let listener = try SilentListener.bound()
    fd = listener.fd
    port = listener.port
    Thread.detachNewThread { [self] in acceptLoop() }
  }

  deinit { stop() }

  /// Closes the listening socket; connections end at their next byte.
  public func stop() {
    stopped.withLock {
      guard !isStopped else { return }
      isStopped = true
      // The accept loop closes it: closing here could close a number another thread reuses.
      shutdown(fd, Int32(SHUT_RDWR))
    }
  }

  private var running: Bool { stopped.withLock { !isStopped } }

  private func acceptLoop() {
    defer { close(fd) }
    while running {
      let client = accept(fd, nil, nil)
      guard client >= 0 else {
        if errno == EINTR { continue }
        return
      }
      Thread.detachNewThread { [self] in serve(client) }
    }
  }

  private func serve(_ client: Int32) {
    defer { close(client) }
    guard send(opening, to: client) else { return }
    var index = 0
    while running {
      Thread.sleep(
        forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
      guard !dribble.isEmpty, send([dribble[index % dribble.count]], to: client) else { return }
      index += 1
    }
  }

  private func send(_ bytes: [UInt8], to client: Int32) -> Bool {
    bytes.isEmpty || bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } > 0
  }
}
