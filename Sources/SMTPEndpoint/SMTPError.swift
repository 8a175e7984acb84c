import MailCore
import SMTPCodec

/// What went wrong talking SMTP or LMTP. Network and TLS failures stay `TransportError`s.
public enum SMTPError: UserFacingError, Equatable, Sendable {
  /// The server refused us in its greeting (554) or closed the session (421).
  case serviceUnavailable(peer: String, reply: SMTPReply)
  case authenticationFailed(peer: String, user: String, reply: SMTPReply)
  /// A command of the session itself (EHLO, STARTTLS, AUTH) failed.
  case commandFailed(peer: String, command: String, reply: SMTPReply)
  case plaintextRefused(peer: String)
  case startTLSUnavailable(peer: String)
  case noUsableAuthentication(peer: String, offered: [String])
  case protocolViolation(peer: String, error: SMTPParseError)
  /// The server answered MAIL FROM with a throttling 4xx (`451 4.7.500 Server busy`): the
  /// transaction was reset and nothing was delivered.
  case throttled(peer: String, command: String, reply: SMTPReply)

  public var description: String {
    switch self {
    case .serviceUnavailable(let peer, let reply): return "\(peer): the server is not accepting mail: \(reply)"
    case .authenticationFailed(let peer, let user, let reply): return "\(peer): login as \(user) failed: \(reply)"
    case .commandFailed(let peer, let command, let reply): return "\(peer): \(command) failed: \(reply)"
    case .plaintextRefused(let peer): return "\(peer): refusing to log in over an unencrypted connection"
    case .startTLSUnavailable(let peer): return "\(peer): the server does not offer STARTTLS"
    case .noUsableAuthentication(let peer, let offered):
      return
        "\(peer): no usable login method (the server offers: \(offered.isEmpty ? "none" : offered.joined(separator: " ")))"
    case .protocolViolation(let peer, let error): return "\(peer): \(error)"
    case .throttled(let peer, let command, let reply): return "\(peer): \(command) deferred: \(reply)"
    }
  }

  public var hint: String? {
    switch self {
    case .serviceUnavailable(_, let reply):
      return reply.isTransient
        ? "run the same command again later: the job resumes from its checkpoint"
        : "the server refuses this client; check the host, the port and whether it accepts mail from here"
    case .authenticationFailed: return "check the user name and password (or token)"
    case .commandFailed: return nil
    case .plaintextRefused, .startTLSUnavailable:
      return "use smtps:// (TLS), or pass --allow-plaintext if this network is trusted"
    case .noUsableAuthentication: return "use a password (PLAIN/LOGIN) or an OAuth2 token the server accepts"
    case .protocolViolation: return "run with --trace FILE and report the server's reply"
    case .throttled: return "the server is throttling this client; raise --max-wait or set --max-rate"
    }
  }

  /// A 4xx at greeting or login (`454 Temporary authentication failure`): the server asks to
  /// be tried again later.
  public var isTemporary: Bool {
    switch self {
    case .serviceUnavailable(_, let reply), .authenticationFailed(_, _, let reply): return reply.isTransient
    case .throttled: return true
    default: return false
    }
  }

  /// A 421, or a 451/452/4.7.x where the server throttles (`SMTPReply.isThrottling`).
  public var isThrottling: Bool {
    switch self {
    case .serviceUnavailable(_, let reply), .authenticationFailed(_, _, let reply), .throttled(_, _, let reply):
      return reply.isThrottling
    default: return false
    }
  }

  public var scope: FailureScope {
    switch self {
    case .authenticationFailed(_, _, let reply): return reply.isTransient ? .connection : .job
    case .plaintextRefused, .startTLSUnavailable, .noUsableAuthentication: return .job
    case .serviceUnavailable, .commandFailed, .protocolViolation, .throttled: return .connection
    }
  }
  public var kind: FailureKind {
    switch self {
    case .authenticationFailed: return isTemporary ? .tryLater : .credentials
    case .noUsableAuthentication: return .credentials
    case .plaintextRefused: return .configuration
    case .throttled: return .tryLater
    case .serviceUnavailable: return isTemporary ? .tryLater : .serverUnavailable
    case .startTLSUnavailable, .protocolViolation: return .serverUnavailable
    case .commandFailed: return .other
    }
  }

}
