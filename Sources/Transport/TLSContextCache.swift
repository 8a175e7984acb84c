import COpenSSL
import Foundation

/// One client `SSL_CTX` per CA setting for the whole process: each context holds the parsed
/// CA certificates (the system bundle is about 1 MB in memory once parsed), so sixteen
/// connections of one job holding sixteen copies cost more than their buffers
/// (docs/benchmarks.md, "Peak memory"). A context is configured once, then only used to make
/// `SSL` objects, which OpenSSL allows from any thread; each caller gets its own reference
/// (`SSL_CTX_up_ref`) and frees it as before.
enum TLSContextCache {
  private static let lock = NSLock()
  /// Keyed by the CA file, "" for the system's CA certificates. Kept for the process's life.
  nonisolated(unsafe) private static var contexts: [String: OpaquePointer] = [:]

  /// A referenced context trusting `caFile` (or the system's CAs), made on first use.
  static func context(caFile: String?, peer: String) throws -> OpaquePointer {
    try lock.withLock {
      let key = caFile ?? ""
      if let context = contexts[key] {
        SSL_CTX_up_ref(context)
        return context
      }
      guard let context = SSL_CTX_new(TLS_client_method()) else {
        throw TransportError.handshakeFailed(peer: peer, reason: OpenSSLErrors.drain())
      }
      mf_SSL_CTX_set_min_proto_version(context, mf_TLS1_2_VERSION())
      mf_SSL_CTX_set_mode(context, mf_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER() | mf_SSL_MODE_ENABLE_PARTIAL_WRITE())
      // The handshake records the verification result instead of aborting, so a failure can
      // be reported with the certificate's subject; `checkVerification` then refuses it.
      SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
      if let caFile {
        if SSL_CTX_load_verify_locations(context, caFile, nil) != 1 {
          SSL_CTX_free(context)
          throw TransportError.handshakeFailed(
            peer: peer, reason: "cannot load CA file \(caFile): \(OpenSSLErrors.drain())")
        }
      } else {
        SSL_CTX_set_default_verify_paths(context)
      }
      contexts[key] = context
      SSL_CTX_up_ref(context)
      return context
    }
  }
}
