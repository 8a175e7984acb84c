import MailCore
import POP3Codec

/// What went wrong in a POP3 conversation. Network and TLS failures stay
/// `TransportError`s.
public enum POP3Error: UserFacingError, Equatable, Sendable {
  /// The server refused the credentials.
  case authenticationFailed(peer: String, user: String, serverText: String)
  /// The maildrop is locked by another session, or logins are throttled (RFC 2449
  /// `[IN-USE]`, `[LOGIN-DELAY]`, `[SYS/TEMP]`): try later; `loginDelay` is the pause
  /// between logins the server announced in CAPA (`LOGIN-DELAY 900`), when it did.
  case mailboxBusy(peer: String, serverText: String, loginDelay: Duration? = nil)
  /// A command got -ERR.
  case commandFailed(peer: String, command: String, serverText: String)
  /// `pop3://` without STLS would send the password in clear.
  case plaintextRefused(peer: String)
  case startTLSUnavailable(peer: String)
  case noUsableAuthentication(peer: String, offered: [String])
  /// The server's bytes broke the protocol.
  case protocolViolation(peer: String, error: POP3ParseError)
  /// QUIT was not acknowledged, so the server did not commit deletions.
  case deletionsNotCommitted(peer: String, reason: String)

  public var description: String {
    switch self {
    case .authenticationFailed(let peer, let user, let text):
      return "\(peer): login as \(user) failed: \(text.isEmpty ? "the server refused the credentials" : text)"
    case .mailboxBusy(let peer, let text, _): return "\(peer): the maildrop is busy: \(text)"
    case .commandFailed(let peer, let command, let text): return "\(peer): \(command) failed: -ERR \(text)"
    case .plaintextRefused(let peer): return "\(peer): refusing to log in over an unencrypted connection"
    case .startTLSUnavailable(let peer): return "\(peer): the server does not offer STLS"
    case .noUsableAuthentication(let peer, let offered):
      return
        "\(peer): no usable login method (the server offers: \(offered.isEmpty ? "none" : offered.joined(separator: " ")))"
    case .protocolViolation(let peer, let error): return "\(peer): \(error)"
    case .deletionsNotCommitted(let peer, let reason):
      return "\(peer): the server did not confirm QUIT (\(reason)), so nothing was deleted"
    }
  }

  public var hint: String? {
    switch self {
    case .authenticationFailed:
      return "check the user name and password (or token); some providers need an app password or OAuth2"
    case .mailboxBusy: return "another client holds the maildrop; run again later"
    case .commandFailed: return nil
    case .plaintextRefused, .startTLSUnavailable:
      return "use pop3s:// (TLS), or pass --allow-plaintext if this network is trusted"
    case .noUsableAuthentication: return "choose another login method, or use a password or token the server accepts"
    case .protocolViolation: return "run with --trace FILE and report the server's reply"
    case .deletionsNotCommitted: return "run again: the copies are kept, and the deletion is retried"
    }
  }

  public var isTemporary: Bool {
    switch self {
    case .mailboxBusy, .deletionsNotCommitted: return true
    default: return false
    }
  }

  /// A busy or login-delayed maildrop is the server asking this client to come back later.
  public var isThrottling: Bool {
    if case .mailboxBusy = self { return true }
    return false
  }

  public var suggestedDelay: Duration? {
    if case .mailboxBusy(_, _, let delay) = self { return delay }
    return nil
  }

  public var scope: FailureScope {
    switch self {
    case .authenticationFailed, .plaintextRefused, .startTLSUnavailable, .noUsableAuthentication: return .job
    case .mailboxBusy, .protocolViolation: return .connection
    case .commandFailed, .deletionsNotCommitted: return .folder
    }
  }
  public var kind: FailureKind {
    switch self {
    case .authenticationFailed, .noUsableAuthentication: return .credentials
    case .mailboxBusy: return .tryLater
    case .plaintextRefused: return .configuration
    case .startTLSUnavailable, .protocolViolation: return .serverUnavailable
    case .commandFailed, .deletionsNotCommitted: return .other
    }
  }

}
