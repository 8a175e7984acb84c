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
  private let relay: ProxyListener
  public var port: Int { relay.port }

  public init(
    upstreamPort: Int, clientToServer: @escaping @Sendable () -> (any ByteTransform)? = { nil },
    serverToClient: @escaping @Sendable () -> (any ByteTransform)? = { nil }
  ) throws {
    relay = try ProxyListener(upstreamPort: upstreamPort, purpose: "proxy")
    relay.start { client, upstream in
      let toServer = clientToServer()
      let toClient = serverToClient()
      return [
        { Self.pump(from: client, to: upstream, transform: toServer) },
        { Self.pump(from: upstream, to: client, transform: toClient) },
      ]
    }
  }

  deinit { stop() }

  /// Closes the listener and every connection.
  public func stop() { relay.stop() }

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
/// the same and only the bytes change, as some servers do to raw UTF-8 headers (with
/// `bodyToo`, every 8-bit byte of the message). Needs a plaintext, uncompressed session.
public struct EightBitHeaderRewriter: ByteTransform {
  private var line: [UInt8] = []
  private var literalLeft = 0
  private var inHeader = false
  private var lastFour: [UInt8] = []
  private let bodyToo: Bool
  /// Bytes replaced so far.
  public private(set) var replaced = 0

  public init(bodyToo: Bool = false) {
    self.bodyToo = bodyToo
  }

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
          if !bodyToo && (lastFour == [13, 10, 13, 10] || lastFour.suffix(2) == [10, 10]) { inHeader = false }
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
