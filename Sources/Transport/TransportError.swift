import MailCore

/// What went wrong on a connection, in words a user can act on.
///
/// Every case names the peer (`host:port`). `isRetryable` tells the engine whether a
/// reconnect may help (a dropped connection, a timeout) or not (a certificate problem).
public enum TransportError: UserFacingError, Equatable, Sendable {
  case hostNotFound(host: String, reason: String)
  case connectionRefused(peer: String)
  case connectTimedOut(peer: String, seconds: Double)
  case timedOut(peer: String, operation: String, seconds: Double)
  /// A response (or greeting) kept arriving, but too slowly to finish within its overall
  /// deadline (`Connection.beginResponse`): `bytes` had come after `seconds`.
  case responseTooSlow(peer: String, seconds: Double, bytes: Int)
  case connectionClosed(peer: String)
  case network(peer: String, operation: String, reason: String)
  case certificateUntrusted(peer: String, subject: String, reason: String)
  case hostnameMismatch(peer: String, expected: String, subject: String)
  case handshakeFailed(peer: String, reason: String)
  case tls(peer: String, reason: String)
  /// The server sent bytes after the STARTTLS reply and before the handshake; they could be
  /// injected commands, so the connection is dropped.
  case plaintextAfterStartTLS(peer: String)
  case lineTooLong(peer: String, limit: Int)
  case compression(peer: String, reason: String)

  public var description: String {
    switch self {
    case .hostNotFound(let host, let reason): return "\(host): host not found (\(reason))"
    case .connectionRefused(let peer): return "\(peer): connection refused"
    case .connectTimedOut(let peer, let seconds): return "\(peer): no connection after \(Self.format(seconds)) s"
    case .timedOut(let peer, let operation, let seconds):
      return "\(peer): timed out after \(Self.format(seconds)) s waiting to \(operation)"
    case .responseTooSlow(let peer, let seconds, let bytes):
      return "\(peer): the server's response was not complete after \(Self.format(seconds)) s (\(bytes) bytes came)"
    case .connectionClosed(let peer): return "\(peer): the server closed the connection"
    case .network(let peer, let operation, let reason): return "\(peer): \(operation) failed: \(reason)"
    case .certificateUntrusted(let peer, let subject, let reason):
      return "\(peer): certificate not trusted: \(reason) (subject \(subject))"
    case .hostnameMismatch(let peer, let expected, let subject):
      return "\(peer): certificate is not valid for \(expected) (subject \(subject))"
    case .handshakeFailed(let peer, let reason): return "\(peer): TLS handshake failed: \(reason)"
    case .tls(let peer, let reason): return "\(peer): TLS error: \(reason)"
    case .plaintextAfterStartTLS(let peer):
      return "\(peer): the server sent data before the TLS handshake (possible command injection)"
    case .lineTooLong(let peer, let limit): return "\(peer): the server sent a line longer than \(limit) bytes"
    case .compression(let peer, let reason): return "\(peer): compressed stream is damaged: \(reason)"
    }
  }

  public var hint: String? {
    switch self {
    case .hostNotFound: return "check the host name in the URL and your DNS"
    case .connectionRefused: return "check the port, and that the server is running and reachable"
    case .connectTimedOut: return "check the host, port and firewall; raise --timeout on a slow network"
    case .timedOut: return "the server stopped answering; raise --timeout, or run again (the job resumes)"
    case .responseTooSlow:
      return
        "the server sends too slowly (overloaded or hostile); run again later (the job resumes), or raise --timeout"
    case .connectionClosed, .network: return "run again: the job resumes from its checkpoint"
    case .certificateUntrusted:
      return
        "pass --ca-file with the CA that signed the server's certificate (or --insecure to skip checks; not recommended)"
    case .hostnameMismatch:
      return "use the host name the certificate was issued for (or --insecure to skip checks; not recommended)"
    case .handshakeFailed: return "the server may not support TLS 1.2 or later on this port; check the port and scheme"
    case .tls: return "run again: the job resumes from its checkpoint"
    case .plaintextAfterStartTLS:
      return "the server or something on the path is misbehaving; use implicit TLS if offered"
    case .lineTooLong: return "the server is misbehaving or this is not the protocol expected on this port"
    case .compression: return "run again with compression off (--no-compress)"
    }
  }

  /// Whether reconnecting can help.
  public var isTemporary: Bool {
    switch self {
    case .connectionClosed, .network, .timedOut, .responseTooSlow, .connectTimedOut, .tls, .compression,
      .connectionRefused:
      return true
    default: return false
    }
  }

  /// Trust and name failures need the user whatever the engine does; the rest end one session.
  public var scope: FailureScope {
    switch self {
    case .hostNotFound, .certificateUntrusted, .hostnameMismatch, .handshakeFailed: return .job
    default: return .connection
    }
  }
  /// Every transport failure is the server's or the network's: unreachable, silent,
  /// untrusted or speaking something else.
  public var kind: FailureKind { .serverUnavailable }

  private static func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
  }
}
