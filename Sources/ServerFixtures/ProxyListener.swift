import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What every test proxy shares: a loopback listener, a connection to the upstream server
/// for each client, the sockets of the connections open now, and a stop that ends them all.
/// The proxy says what flows: for each accepted pair it returns the pumps to run, one
/// thread each; when they are done, both sockets are closed.
final class ProxyListener: @unchecked Sendable {
  let port: Int
  private let listener: Int32
  private let upstreamPort: Int
  private let lock = NSLock()
  private var sockets: [Int32] = []
  private var stopped = false

  init(upstreamPort: Int, purpose: String) throws {
    self.upstreamPort = upstreamPort
    (listener, port) = try LoopbackListener.open(purpose: purpose)
  }

  /// Accepts connections on a thread of its own; `pumps` gets each client and upstream
  /// socket and returns what to run between them, or nil to close them at once.
  func start(pumps: @escaping @Sendable (_ client: Int32, _ upstream: Int32) -> [@Sendable () -> Void]?) {
    Thread { [self] in acceptLoop(pumps) }.start()
  }

  /// Ends the listener and every connection.
  func stop() {
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

  private func acceptLoop(_ pumps: @Sendable (Int32, Int32) -> [@Sendable () -> Void]?) {
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
      guard accepted, let work = pumps(client, upstream) else {
        if accepted { lock.withLock { sockets.removeAll { $0 == client || $0 == upstream } } }
        close(client)
        close(upstream)
        continue
      }
      let done = DispatchGroup()
      for pump in work {
        done.enter()
        Thread {
          pump()
          done.leave()
        }.start()
      }
      Thread { [self] in
        done.wait()
        lock.withLock { sockets.removeAll { $0 == client || $0 == upstream } }
        close(client)
        close(upstream)
      }.start()
    }
  }
}
