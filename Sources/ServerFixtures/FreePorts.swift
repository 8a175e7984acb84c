import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Loopback ports for test servers: bound to 127.0.0.1:0 and released, all at once so
/// they differ from each other.
public enum FreePorts {
  public static func allocate(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { sockets.forEach { close($0) } }
    var ports: [Int] = []
    for _ in 0..<count {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      address.sin_port = 0
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
      }
      guard bound == 0 else { throw FixtureError("cannot bind a loopback port: \(String(cString: strerror(errno)))") }
      _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
      }
      sockets.append(fd)
      ports.append(Int(UInt16(bigEndian: address.sin_port)))
    }
    return ports
  }
}

/// Why a test server could not be started. Tests that need the server fail with it.
public struct FixtureError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
