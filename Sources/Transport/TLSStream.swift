import COpenSSL

#if canImport(Glibc)
  import Glibc
#endif

/// TLS over a socket through OpenSSL, client side, TLS 1.2 or later.
///
/// Ownership rule: the `SSL*` is used only by the thread that owns the connection.
final class TLSStream: ByteStream {
  private let socket: SocketStream
  private let context: OpaquePointer
  private let ssl: OpaquePointer
  private(set) var info: TLSSessionInfo!
  private var closed = false

  /// Performs the handshake on `socket`, then checks the certificate chain and the name.
  /// Nothing is sent to the server after the handshake unless the checks pass.
  init(socket: SocketStream, host: String, options: TLSOptions, deadline: Deadline) throws {
    self.socket = socket
    let peer = socket.peer
    let context = try TLSContextCache.context(caFile: options.caFile, peer: peer)
    guard let ssl = SSL_new(context) else {
      SSL_CTX_free(context)
      throw TransportError.handshakeFailed(peer: peer, reason: OpenSSLErrors.drain())
    }
    self.context = context
    self.ssl = ssl
    SSL_set_fd(ssl, socket.fd)

    let name = options.expectedName ?? host
    if IPAddress.isLiteral(name) {
      // SSL_set1_host checks DNS names only; IP literals get no SNI (RFC 6066).
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)
    } else {
      SSL_set1_host(ssl, name)
      mf_SSL_set_tlsext_host_name(ssl, name)
    }

    try drive(deadline: deadline, operation: "complete the TLS handshake") { SSL_connect(ssl) }
    info = try checkVerification(name: name, options: options)
  }

  deinit {
    close()
    SSL_free(ssl)
    SSL_CTX_free(context)
  }

  var hasBufferedInput: Bool { SSL_pending(ssl) > 0 }

  func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws -> Int {
    var count = 0
    do {
      try drive(deadline: deadline, operation: "read") {
        let result = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        count = Int(max(result, 0))
        return result
      }
    } catch TLSEnd.closed {
      return 0
    }
    return count
  }

  func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws {
    var offset = 0
    while offset < bytes.count {
      var written = 0
      do {
        try drive(deadline: deadline, operation: "write") {
          let result = SSL_write(ssl, bytes.baseAddress! + offset, Int32(clamping: bytes.count - offset))
          written = Int(max(result, 0))
          return result
        }
      } catch TLSEnd.closed {
        throw TransportError.connectionClosed(peer: socket.peer)
      }
      offset += written
    }
  }

  func close() {
    guard !closed else { return }
    closed = true
    // A best-effort close_notify: never wait for the server's.
    SSL_shutdown(ssl)
    socket.close()
  }

  private enum TLSEnd: Error { case closed }

  /// Calls an OpenSSL I/O function until it succeeds, waiting on the socket as it asks.
  private func drive(deadline: Deadline, operation: String, _ call: () -> Int32) throws {
    while true {
      ERR_clear_error()
      let result = call()
      if result > 0 { return }
      let error = SSL_get_error(ssl, result)
      switch error {
      case SSL_ERROR_WANT_READ: try socket.wait(for: Int16(POLLIN), deadline: deadline, operation: operation)
      case SSL_ERROR_WANT_WRITE: try socket.wait(for: Int16(POLLOUT), deadline: deadline, operation: operation)
      case SSL_ERROR_ZERO_RETURN: throw TLSEnd.closed
      case SSL_ERROR_SYSCALL:
        let code = errno
        let queued = OpenSSLErrors.drain()
        if info == nil {
          throw TransportError.handshakeFailed(
            peer: socket.peer, reason: queued.isEmpty ? "the server closed the connection" : queued)
        }
        if queued.isEmpty && (code == 0 || code == ECONNRESET || code == EPIPE) {
          throw TransportError.connectionClosed(peer: socket.peer)
        }
        throw TransportError.tls(peer: socket.peer, reason: queued.isEmpty ? String(cString: strerror(code)) : queued)
      default:
        let reason = OpenSSLErrors.drain()
        if info == nil {
          throw TransportError.handshakeFailed(peer: socket.peer, reason: reason.isEmpty ? "error \(error)" : reason)
        }
        if reason.contains("unexpected eof") { throw TransportError.connectionClosed(peer: socket.peer) }
        throw TransportError.tls(peer: socket.peer, reason: reason.isEmpty ? "error \(error)" : reason)
      }
    }
  }

  private func checkVerification(name: String, options: TLSOptions) throws -> TLSSessionInfo {
    let certificate = SSL_get1_peer_certificate(ssl)
    defer { X509_free(certificate) }
    let subject = certificate.map { X509Names.format(X509_get_subject_name($0)) } ?? "(no certificate)"
    let issuer = certificate.map { X509Names.format(X509_get_issuer_name($0)) } ?? ""
    let result = certificate == nil ? Int(X509_V_ERR_UNSPECIFIED) : SSL_get_verify_result(ssl)
    let reason = result == X509_V_OK ? nil : String(cString: X509_verify_cert_error_string(result))
    let version = String(cString: SSL_get_version(ssl))
    let cipher = SSL_get_current_cipher(ssl).map { String(cString: SSL_CIPHER_get_name($0)) } ?? "unknown"

    if result != X509_V_OK && !options.insecure {
      close()
      switch Int32(result) {
      case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
        throw TransportError.hostnameMismatch(peer: socket.peer, expected: name, subject: subject)
      default:
        throw TransportError.certificateUntrusted(peer: socket.peer, subject: subject, reason: reason ?? "unknown")
      }
    }
    return TLSSessionInfo(
      protocolVersion: version, cipher: cipher, peerSubject: subject, peerIssuer: issuer,
      verified: result == X509_V_OK, verificationNote: reason)
  }
}

enum OpenSSLErrors {
  /// Empties OpenSSL's thread-local error queue into one readable line.
  static func drain() -> String {
    var reasons: [String] = []
    while true {
      let code = ERR_get_error()
      if code == 0 { break }
      if let text = ERR_reason_error_string(code) {
        reasons.append(String(cString: text))
      } else {
        reasons.append("error \(code)")
      }
    }
    return reasons.joined(separator: "; ")
  }
}

enum X509Names {
  /// RFC 2253 form, e.g. `CN=imap.example.com,O=Example`.
  static func format(_ name: OpaquePointer?) -> String {
    guard let name, let bio = BIO_new(BIO_s_mem()) else { return "(unknown)" }
    defer { BIO_free(bio) }
    X509_NAME_print_ex(bio, name, 0, mf_XN_FLAG_RFC2253())
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 256)
    while true {
      let count = BIO_read(bio, &chunk, Int32(chunk.count))
      if count <= 0 { break }
      bytes.append(contentsOf: chunk[0..<Int(count)])
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

enum IPAddress {
  static func isLiteral(_ text: String) -> Bool {
    var v4 = in_addr()
    var v6 = in6_addr()
    return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
  }
}
