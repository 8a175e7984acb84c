import IMAPCodec
import MailCore

/// What went wrong in an IMAP conversation, in words a user can act on. Network and TLS
/// failures stay `TransportError`s; these are the protocol's own.
public enum IMAPError: UserFacingError, Equatable, Sendable {
  /// The server said NO to LOGIN or AUTHENTICATE: the credentials, not the network.
  case authenticationFailed(peer: String, user: String, serverText: String)
  /// A command got NO or BAD.
  case commandFailed(peer: String, command: String, status: ResponseStatus)
  /// The server ended the session with BYE (or refused us in its greeting).
  case serverClosed(peer: String, text: String)
  /// `imap://` without STARTTLS would send the password in clear.
  case plaintextRefused(peer: String)
  case startTLSUnavailable(peer: String)
  case missingCapability(peer: String, capability: String, purpose: String)
  /// The server's bytes broke the protocol.
  case protocolViolation(peer: String, error: IMAPParseError)
  case noUsableAuthentication(peer: String, offered: [String])
  /// SELECT gave no UIDVALIDITY, so no UID can be trusted across sessions.
  case noUIDValidity(peer: String, mailbox: String)

  public var description: String {
    switch self {
    case .authenticationFailed(let peer, let user, let text):
      return "\(peer): login as \(user) failed: \(text.isEmpty ? "the server refused the credentials" : text)"
    case .commandFailed(let peer, let command, let status):
      return "\(peer): \(command) failed: \(status.kind.rawValue) \(status.text)"
    case .serverClosed(let peer, let text): return "\(peer): the server ended the session: \(text)"
    case .plaintextRefused(let peer):
      return "\(peer): refusing to log in over an unencrypted connection"
    case .startTLSUnavailable(let peer): return "\(peer): the server does not offer STARTTLS"
    case .missingCapability(let peer, let capability, let purpose):
      return "\(peer): the server does not offer \(capability), needed for \(purpose)"
    case .protocolViolation(let peer, let error): return "\(peer): \(error)"
    case .noUsableAuthentication(let peer, let offered):
      return
        "\(peer): no usable login method (the server offers: \(offered.isEmpty ? "none" : offered.joined(separator: " ")))"
    case .noUIDValidity(let peer, let mailbox):
      return "\(peer): \(mailbox): the server reported no UIDVALIDITY, so its UIDs cannot be trusted"
    }
  }

  public var hint: String? {
    switch self {
    case .authenticationFailed:
      return "check the user name and password (or token); some providers need an app password or OAuth2"
    case .commandFailed(_, _, let status) where status.code == .overQuota:
      return "the target mailbox is over quota: free space there and run again"
    case .commandFailed where isThrottling:
      return "the server is throttling this client; raise --max-wait, lower --connections or set --max-rate"
    case .commandFailed: return nil
    case .serverClosed: return "run the same command again: the job resumes from its checkpoint"
    case .plaintextRefused, .startTLSUnavailable:
      return "use imaps:// (TLS), or pass --allow-plaintext if this network is trusted"
    case .missingCapability: return "this server cannot do that; see docs/providers.md"
    case .protocolViolation: return "run with --trace FILE and report the server's reply"
    case .noUIDValidity: return "exclude this folder with --exclude; see docs/providers.md"
    case .noUsableAuthentication: return "use a password (LOGIN/PLAIN) or an OAuth2 token command the server supports"
    }
  }

  /// Whether trying again later may help: a BYE, or a server saying it is busy.
  public var isTemporary: Bool {
    switch self {
    case .serverClosed: return true
    default: return isThrottling
    }
  }

  /// A BYE in the middle of a session (servers shed load that way), or a NO/BAD whose code
  /// or text says the server is throttling (`IMAPThrottling`).
  public var isThrottling: Bool {
    switch self {
    case .serverClosed: return true
    case .commandFailed(_, _, let status): return status.code != .overQuota && IMAPThrottling.isThrottling(status)
    default: return false
    }
  }

  public var suggestedDelay: Duration? {
    switch self {
    case .serverClosed(_, let text): return IMAPThrottling.suggestedDelay(in: text)
    case .commandFailed(_, _, let status): return IMAPThrottling.suggestedDelay(in: status.text)
    default: return nil
    }
  }

  public var scope: FailureScope {
    switch self {
    case .authenticationFailed, .plaintextRefused, .startTLSUnavailable, .missingCapability, .noUsableAuthentication:
      return .job
    case .serverClosed, .protocolViolation: return .connection
    case .commandFailed(_, _, let status) where status.code == .overQuota: return .job
    case .commandFailed where isThrottling: return .connection
    case .commandFailed, .noUIDValidity: return .folder
    }
  }
  public var kind: FailureKind {
    switch self {
    case .authenticationFailed, .noUsableAuthentication: return .credentials
    case .plaintextRefused: return .configuration
    case .startTLSUnavailable, .missingCapability, .protocolViolation: return .serverUnavailable
    case .serverClosed, .commandFailed:
      return isThrottling ? .tryLater : isTemporary ? .serverUnavailable : .other
    case .noUIDValidity: return .other
    }
  }

}
