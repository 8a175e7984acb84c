import Foundation
import Transport

/// Just enough IMAP, spoken line by line, to drive the transport against a real server.
/// (The real IMAP client lives in its own layer; these tests cover only the transport.)
enum IMAPLines {
  /// Reads the greeting line.
  static func greeting(_ connection: Connection) throws -> String {
    String(decoding: try connection.readLine(), as: UTF8.self)
  }

  /// Sends `tag command` and returns every line up to and including the tagged reply.
  @discardableResult
  static func command(
    _ connection: Connection, _ tag: String, _ command: String, trace: TraceText = .verbatim
  ) throws
    -> [String]
  {
    try connection.send("\(tag) \(command)\r\n", trace: trace)
    try connection.flush()
    var lines: [String] = []
    while true {
      let line = String(decoding: try connection.readLine(), as: UTF8.self)
      lines.append(line)
      if line.hasPrefix("\(tag) ") { return lines }
    }
  }

  /// True when the last line is a tagged OK.
  static func isOK(_ lines: [String]) -> Bool {
    guard let last = lines.last else { return false }
    return last.split(separator: " ").dropFirst().first == "OK"
  }
}

/// A loopback socket that accepts connections and never says anything: for timeouts.
final class SilentListener {
  let port: Int
  private let fd: Int32

  init() throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.fd = fd
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    listen(fd, 8)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    port = Int(UInt16(bigEndian: address.sin_port))
  }

  deinit {
    close(fd)
  }
}
