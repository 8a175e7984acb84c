import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A loopback TCP proxy in front of a real server that breaks connections, for tests: each
/// new connection gets the fault its `FaultPlan` picks (a cut after N bytes, a stall, a slow
/// link, a cut inside an IMAP literal). Threads and blocking I/O like `TCPProxy`; each
/// direction holds at most one 16 KiB buffer, so memory stays bounded whatever flows.
public final class FaultInjectingProxy: @unchecked Sendable {
  private let relay: ProxyListener
  public var port: Int { relay.port }
  private let lock = NSLock()
  private var plan: FaultPlan
  private var connections = 0
  private var injected: [FaultKind: Int] = [:]

  public init(upstreamPort: Int, plan: FaultPlan) throws {
    self.plan = plan
    relay = try ProxyListener(upstreamPort: upstreamPort, purpose: "fault proxy")
    relay.start { [self] client, upstream in
      let fault: ConnectionFault = lock.withLock {
        connections += 1
        return self.plan.fault(connections - 1)
      }
      let connection = FaultyConnection(client: client, upstream: upstream, fault: fault) { [self] kind in
        lock.withLock { injected[kind, default: 0] += 1 }
      }
      return [{ connection.pump(.toServer) }, { connection.pump(.toClient) }]
    }
  }

  deinit { stop() }

  /// Faults played so far, by kind (a fault counts once it happened, not when it was planned).
  public var faults: [FaultKind: Int] { lock.withLock { injected } }

  /// All faults played so far.
  public var faultCount: Int { faults.values.reduce(0, +) }

  /// Connections accepted so far.
  public var connectionCount: Int { lock.withLock { connections } }

  /// Replaces the plan for connections accepted from now on (numbering goes on).
  public func setPlan(_ plan: FaultPlan) { lock.withLock { self.plan = plan } }

  /// Closes the listener and every connection.
  public func stop() { relay.stop() }
}

/// One proxied connection and its fault: two pumps, one per direction, and the bytes that
/// went through both ways (a cut or a stall happens at a count of those).
private final class FaultyConnection: @unchecked Sendable {
  let client: Int32
  let upstream: Int32
  let fault: ConnectionFault
  let played: @Sendable (FaultKind) -> Void
  private let lock = NSLock()
  private var passed = 0
  private var stalled = false
  private var isCut = false

  init(client: Int32, upstream: Int32, fault: ConnectionFault, played: @escaping @Sendable (FaultKind) -> Void) {
    self.client = client
    self.upstream = upstream
    self.fault = fault
    self.played = played
  }

  /// Ends both directions at once: each side sees the connection drop. Counted once.
  private func cut(_ kind: FaultKind) {
    if lock.withLock({ () -> Bool in
      defer { isCut = true }
      return !isCut
    }) {
      played(kind)
    }
    shutdown(client, Int32(SHUT_RDWR))
    shutdown(upstream, Int32(SHUT_RDWR))
  }

  /// What happens once some bytes have gone through.
  private enum Event {
    case stall(seconds: Double)
    case cut
  }

  /// Counts `count` bytes about to pass; returns how many pass before the next stall or cut
  /// is due (all of them when none is), and that event.
  private func take(_ count: Int) -> (passing: Int, due: Event?) {
    lock.withLock {
      var next: (threshold: Int, event: Event)?
      if !stalled, let stall = fault.stall { next = (stall.afterBytes, .stall(seconds: stall.seconds)) }
      if let cut = fault.cutAfterBytes, cut < next?.threshold ?? .max { next = (cut, .cut) }
      guard let next, passed + count >= next.threshold else {
        passed += count
        return (count, nil)
      }
      let passing = max(0, next.threshold - passed)
      passed += passing
      if case .stall = next.event { stalled = true }
      return (passing, next.event)
    }
  }

  /// Copies one direction until either side ends or the fault cuts the connection.
  func pump(_ direction: ProxyDirection) {
    let (from, to) = direction == .toServer ? (client, upstream) : (upstream, client)
    var literals = LiteralTracker()
    let slowRate = fault.slowToBytesPerSecond.map { max(1, $0) }
    if slowRate != nil && direction == .toClient { played(.slow) }
    // A slow link reads a tenth of a second's worth at a time.
    var buffer = [UInt8](repeating: 0, count: min(16 * 1024, slowRate.map { max(1, $0 / 10) } ?? .max))
    while true {
      let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { break }
      var chunk = Array(buffer[0..<count])
      if fault.cutInsideLiteral == direction, let end = literals.halfwayThroughLiteral(in: chunk) {
        _ = TCPProxy.writeAll(Array(chunk[..<end]), to: to)
        cut(.cutInsideLiteral)
        return
      }
      while !chunk.isEmpty {
        let (passing, due) = take(chunk.count)
        guard TCPProxy.writeAll(Array(chunk[..<passing]), to: to) else {
          shutdown(from, Int32(SHUT_RD))
          return
        }
        chunk.removeFirst(passing)
        switch due {
        case .stall(let seconds):
          played(.stall)
          usleep(UInt32(seconds * 1_000_000))
        case .cut:
          cut(.cut)
          return
        case nil:
          break
        }
      }
      if let slowRate { usleep(UInt32(min(1_000_000, count * 1_000_000 / slowRate))) }
    }
    shutdown(to, Int32(SHUT_WR))
    shutdown(from, Int32(SHUT_RD))
  }
}

/// Follows IMAP literals (`{n}` or `{n+}` ending a line) in a byte stream, to find the
/// middle of the first one of two bytes or more.
struct LiteralTracker {
  private var line: [UInt8] = []
  private var literalLeft = 0
  /// Bytes of the chosen literal still to come when its middle is reached.
  private var cutAt: Int?

  /// The index in `chunk` at which half of such a literal has gone by, if it is in `chunk`.
  mutating func halfwayThroughLiteral(in chunk: [UInt8]) -> Int? {
    var index = 0
    while index < chunk.count {
      if literalLeft > 0 {
        if let cut = cutAt, literalLeft - (chunk.count - index) <= cut {
          return index + (literalLeft - cut)
        }
        let taken = min(literalLeft, chunk.count - index)
        literalLeft -= taken
        index += taken
        continue
      }
      let byte = chunk[index]
      index += 1
      line.append(byte)
      guard byte == 10 else { continue }
      if let size = EightBitHeaderRewriter.literalSize(atEndOf: line), size > 0 {
        literalLeft = size
        if size >= 2 && cutAt == nil { cutAt = size - size / 2 }
      }
      line = []
    }
    return nil
  }
}
