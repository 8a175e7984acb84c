import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A loopback server that plays a script on every connection, each on its own thread: for
/// tests of what MailFerry does when a server misbehaves (sends too much, lies about
/// sizes). The script reads lines and writes bytes through a `ScriptedConnection`; when it
/// returns or throws, the connection is closed.
public final class ScriptedServer: @unchecked Sendable {
  public let port: Int
  private let listener: Int32
  private let script: @Sendable (ScriptedConnection) throws -> Void

  public init(script: @escaping @Sendable (ScriptedConnection) throws -> Void) throws {
    self.script = script
    let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard listener >= 0 else { throw FixtureError("socket: \(String(cString: strerror(errno)))") }
    self.listener = listener
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
    }
    guard bound == 0, listen(listener, 16) == 0 else {
      let reason = String(cString: strerror(errno))
      close(listener)
      throw FixtureError("bind/listen: \(reason)")
    }
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
    }
    port = Int(UInt16(bigEndian: address.sin_port))
    let thread = Thread { [self] in acceptConnections() }
    thread.start()
  }

  deinit { stop() }

  /// Stops accepting; connections in progress end when their scripts do.
  public func stop() {
    shutdown(listener, Int32(SHUT_RDWR))
  }

  private func acceptConnections() {
    while true {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if errno == EINTR { continue }
        close(listener)
        return
      }
      let connection = ScriptedConnection(fd: client)
      let thread = Thread { [script] in
        try? script(connection)
        connection.close()
      }
      thread.start()
    }
  }
}

/// One connection of a `ScriptedServer`, used by one script thread.
public final class ScriptedConnection: @unchecked Sendable {
  public struct Closed: Error {}

  private let fd: Int32
  private var buffer: [UInt8] = []

  init(fd: Int32) { self.fd = fd }

  public func send(_ text: String) throws { try send(Array(text.utf8)) }

  public func send(_ bytes: [UInt8]) throws {
    var sent = 0
    while sent < bytes.count {
      let count = bytes.withUnsafeBytes {
        Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
      }
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { throw Closed() }
      sent += count
    }
  }

  /// Sends `count` bytes made of `pattern` repeated, without building them all at once.
  public func send(repeating pattern: String, count: Int) throws {
    let unit = Array(pattern.utf8)
    let chunk = Array(repeatElement(unit, count: max(1, (64 << 10) / unit.count)).joined())
    var left = count
    while left > 0 {
      let take = min(left, chunk.count)
      try send(Array(chunk[0..<take]))
      left -= take
    }
  }

  /// The next line without its line ending; throws `Closed` at the end of the stream.
  public func readLine() throws -> String {
    while true {
      if let newline = buffer.firstIndex(of: 0x0A) {
        var line = Array(buffer[0..<newline])
        buffer.removeFirst(newline + 1)
        if line.last == 0x0D { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
      }
      var chunk = [UInt8](repeating: 0, count: 4096)
      let count = read(fd, &chunk, chunk.count)
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { throw Closed() }
      buffer += chunk[0..<count]
    }
  }

  /// The next `count` bytes (an IMAP literal); throws `Closed` at the end of the stream.
  public func readBytes(_ count: Int) throws -> [UInt8] {
    while buffer.count < count {
      var chunk = [UInt8](repeating: 0, count: 4096)
      let read = Glibc.read(fd, &chunk, chunk.count)
      if read < 0 && errno == EINTR { continue }
      guard read > 0 else { throw Closed() }
      buffer += chunk[0..<read]
    }
    defer { buffer.removeFirst(count) }
    return Array(buffer[0..<count])
  }

  func close() { Glibc.close(fd) }
}
