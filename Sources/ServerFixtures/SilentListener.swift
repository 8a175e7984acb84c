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
    try LoopbackListener.open(backlog: 8, purpose: "silent listener")
  }

  deinit {
    close(fd)
  }
}
