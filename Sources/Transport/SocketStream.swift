#if canImport(Glibc)
  import Glibc
#endif

/// A non-blocking TCP socket driven with poll(2), so every operation honours a deadline.
final class SocketStream: ByteStream {
  let fd: Int32
  let peer: String
  private var closed = false

  init(fd: Int32, peer: String) {
    self.fd = fd
    self.peer = peer
  }

  deinit { close() }

  var hasBufferedInput: Bool { false }

  func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws -> Int {
    while true {
      let count = recv(fd, buffer.baseAddress, buffer.count, 0)
      if count >= 0 { return count }
      switch errno {
      case EINTR: continue
      case EAGAIN, EWOULDBLOCK: try wait(for: Int16(POLLIN), deadline: deadline, operation: "read")
      case ECONNRESET: throw TransportError.connectionClosed(peer: peer)
      default: throw TransportError.network(peer: peer, operation: "read", reason: String(cString: strerror(errno)))
      }
    }
  }

  func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws {
    var offset = 0
    while offset < bytes.count {
      let count = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
      if count >= 0 {
        offset += count
        continue
      }
      switch errno {
      case EINTR: continue
      case EAGAIN, EWOULDBLOCK: try wait(for: Int16(POLLOUT), deadline: deadline, operation: "write")
      case EPIPE, ECONNRESET: throw TransportError.connectionClosed(peer: peer)
      default: throw TransportError.network(peer: peer, operation: "write", reason: String(cString: strerror(errno)))
      }
    }
  }

  /// Waits until the socket is ready for `events` or the deadline passes.
  func wait(for events: Int16, deadline: Deadline, operation: String) throws {
    while true {
      var descriptor = pollfd(fd: fd, events: events, revents: 0)
      let remaining = deadline.remainingMilliseconds
      if remaining == 0 {
        throw TransportError.timedOut(peer: peer, operation: operation, seconds: deadline.timeoutSeconds)
      }
      let ready = poll(&descriptor, 1, remaining)
      if ready > 0 { return }
      if ready == 0 {
        throw TransportError.timedOut(peer: peer, operation: operation, seconds: deadline.timeoutSeconds)
      }
      if errno != EINTR {
        throw TransportError.network(peer: peer, operation: "poll", reason: String(cString: strerror(errno)))
      }
    }
  }

  func close() {
    guard !closed else { return }
    closed = true
    Glibc.close(fd)
  }

  /// Half-closes nothing: shuts the socket down both ways, so a blocked peer sees the end.
  func shutdown() {
    guard !closed else { return }
    _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
  }
}

/// Opens TCP connections by name.
enum TCPConnector {
  /// Resolves `host` (IPv4 and IPv6) and tries each address in turn, each with `timeout`.
  static func connect(host: String, port: Int, timeout: Duration) throws -> SocketStream {
    ignoreSIGPIPE
    let peer = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_ADDRCONFIG
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0, let first = list else {
      let reason = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
      throw TransportError.hostNotFound(host: host, reason: reason)
    }
    defer { freeaddrinfo(list) }

    var lastError: TransportError = .connectionRefused(peer: peer)
    var current: UnsafeMutablePointer<addrinfo>? = first
    while let info = current {
      current = info.pointee.ai_next
      do {
        return try connect(address: info.pointee, peer: peer, timeout: timeout)
      } catch let error as TransportError {
        lastError = error
      }
    }
    throw lastError
  }

  private static func connect(address: addrinfo, peer: String, timeout: Duration) throws -> SocketStream {
    let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    let fd = socket(address.ai_family, type, address.ai_protocol)
    guard fd >= 0 else {
      throw TransportError.network(peer: peer, operation: "socket", reason: String(cString: strerror(errno)))
    }
    let stream = SocketStream(fd: fd, peer: peer)
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))

    if Glibc.connect(fd, address.ai_addr, address.ai_addrlen) != 0 {
      guard errno == EINPROGRESS else { throw connectError(errno, peer: peer) }
      let deadline = Deadline.after(timeout)
      do {
        try stream.wait(for: Int16(POLLOUT), deadline: deadline, operation: "connect")
      } catch TransportError.timedOut {
        throw TransportError.connectTimedOut(peer: peer, seconds: deadline.timeoutSeconds)
      }
      var socketError: Int32 = 0
      var length = socklen_t(MemoryLayout<Int32>.size)
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
      if socketError != 0 { throw connectError(socketError, peer: peer) }
    }
    return stream
  }

  private static func connectError(_ code: Int32, peer: String) -> TransportError {
    switch code {
    case ECONNREFUSED: return .connectionRefused(peer: peer)
    case ETIMEDOUT: return .connectTimedOut(peer: peer, seconds: 0)
    default: return .network(peer: peer, operation: "connect", reason: String(cString: strerror(code)))
    }
  }

  /// OpenSSL's own writes can raise SIGPIPE on a closed socket; a mail tool must not die of it.
  private static let ignoreSIGPIPE: Void = {
    signal(SIGPIPE, SIG_IGN)
  }()
}
