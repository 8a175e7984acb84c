import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A loopback socket that accepts connections and never says anything: for timeouts.
public final class SilentListener {
  public let port: Int
  private let fd: Int32

  public init() throws {
    (fd, port) = try Self.bound()
  }

  /// A listening loopback socket on a free port.
  static func bound() throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
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
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
  }

  deinit {
    close(fd)
  }
}
