import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Changes the bytes flowing one way through a `TCPProxy`. One instance per connection and
/// direction, fed the stream in whatever pieces the socket gives.
public protocol ByteTransform: Sendable {
  /// The bytes to pass on for `bytes` (possibly fewer, more or different).
  mutating func process(_ bytes: [UInt8]) -> [UInt8]
}

/// A loopback TCP proxy in front of a real server, for tests: it accepts connections on a
/// free port, connects each to `upstreamPort`, and copies bytes both ways through optional
/// transforms. Two threads per connection, blocking I/O; `stop` closes everything.
public final class TCPProxy: @unchecked Sendable {
  public let port: Int
  private let upstreamPort: Int
  private let listener: Int32
  private let makeClientToServer: @Sendable () -> (any ByteTransform)?
  private let makeServerToClient: @Sendable () -> (any ByteTransform)?
  private let lock = NSLock()
  private var sockets: [Int32] = []
  private var stopped = false

  public init(
    upstreamPort: Int, clientToServer: @escaping @Sendable () -> (any ByteTransform)? = { nil },
    serverToClient: @escaping @Sendable () -> (any ByteTransform)? = { nil }
  ) throws {
    self.upstreamPort = upstreamPort
    makeClientToServer = clientToServer
    makeServerToClient = serverToClient
    let (fd, freePort) = try LoopbackListener.open(purpose: "proxy")
    listener = fd
    port = freePort
    let thread = Thread { [self] in acceptLoop() }
    thread.start()
  }

  deinit { stop() }

  /// Closes the listener and every connection.
  public func stop() {
    lock.withLock {
      guard !stopped else { return }
      stopped = true
      // Shut down, never close, here: the accept loop closes the listener and each
      // connection's closer its sockets, so no descriptor is closed twice, or touched after
      // another thread got its number again (it would cut someone else's connection).
      shutdown(listener, Int32(SHUT_RDWR))
      for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
    }
  }

  private func acceptLoop() {
    while true {
      let client = accept(listener, nil, nil)
      guard client >= 0 else {
        if errno == EINTR { continue }
        close(listener)
        return
      }
      let (upstream, isConnected) = LoopbackListener.connectSocket(to: upstreamPort)
      let accepted: Bool = lock.withLock {
        guard !stopped, isConnected else { return false }
        sockets += [client, upstream]
        return true
      }
      guard accepted else {
        close(client)
        close(upstream)
        continue
      }
      let done = DispatchGroup()
      for (from, to, transform) in [
        (client, upstream, makeClientToServer()), (upstream, client, makeServerToClient()),
      ] {
        done.enter()
        let pump = Thread {
          Self.pump(from: from, to: to, transform: transform)
          done.leave()
        }
        pump.start()
      }
      let closer = Thread { [self] in
        done.wait()
        lock.withLock { sockets.removeAll { $0 == client || $0 == upstream } }
        close(client)
        close(upstream)
      }
      closer.start()
    }
  }

  /// Copies `from` to `to` until either side ends, then ends the other direction too.
  private static func pump(from: Int32, to: Int32, transform: (any ByteTransform)?) {
    var transform = transform
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { break }
      var chunk = Array(buffer[0..<count])
      if transform != nil { chunk = transform!.process(chunk) }
      guard writeAll(chunk, to: to) else { break }
    }
    shutdown(to, Int32(SHUT_WR))
    shutdown(from, Int32(SHUT_RD))
  }

  static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Bool {
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else { return false }
      offset += written
    }
    return true
  }

  static func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    return address
  }
}

/// Plays a server that rewrites what it stores: in every literal an IMAP client sends (an
/// APPEND's message), each 8-bit byte of the header section becomes `X`, so the size stays
/// the same and only the bytes change, as some servers do to raw UTF-8 headers. Needs a
/// plaintext, uncompressed session.
public struct EightBitHeaderRewriter: ByteTransform {
  private var line: [UInt8] = []
  private var literalLeft = 0
  private var inHeader = false
  private var lastFour: [UInt8] = []
  /// Bytes replaced so far.
  public private(set) var replaced = 0

  public init() {}

  public mutating func process(_ bytes: [UInt8]) -> [UInt8] {
    var output = bytes
    for index in output.indices {
      let byte = output[index]
      if literalLeft > 0 {
        literalLeft -= 1
        if inHeader {
          if byte >= 0x80 {
            output[index] = UInt8(ascii: "X")
            replaced += 1
          }
          lastFour.append(byte)
          if lastFour.count > 4 { lastFour.removeFirst() }
          if lastFour == [13, 10, 13, 10] || lastFour.suffix(2) == [10, 10] { inHeader = false }
        }
        continue
      }
      line.append(byte)
      guard byte == 10 else { continue }
      if let size = Self.literalSize(atEndOf: line), size > 0 {
        literalLeft = size
        inHeader = true
        lastFour = []
      }
      line = []
    }
    return output
  }

  /// `{123}` or `{123+}` before the line's CRLF.
  static func literalSize(atEndOf line: [UInt8]) -> Int? {
    var end = line.count
    while end > 0 && (line[end - 1] == 10 || line[end - 1] == 13) { end -= 1 }
    guard end > 0, line[end - 1] == UInt8(ascii: "}") else { return nil }
    guard let open = line[..<end].lastIndex(of: UInt8(ascii: "{")) else { return nil }
    var digits = line[(open + 1)..<(end - 1)]
    if digits.last == UInt8(ascii: "+") { digits = digits.dropLast() }
    return Int(String(decoding: digits, as: UTF8.self))
  }
}
