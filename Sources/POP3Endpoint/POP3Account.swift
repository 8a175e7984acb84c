import Transport

/// Where and how to reach a POP3 maildrop.
public struct POP3Account: Sendable, Equatable {
  public enum Security: Sendable, Equatable {
    /// `pop3s://`: TLS from the first byte.
    case implicitTLS
    /// `pop3://`: STLS is required, unless `allowPlaintext`.
    case startTLS
  }

  /// How a password is sent: `.automatic` picks AUTH PLAIN when offered, else USER/PASS,
  /// else APOP.
  public enum LoginMethod: String, Sendable, Equatable, CaseIterable {
    case automatic = "auto"
    case plain
    case user
    case apop
  }

  public var host: String
  public var port: Int
  public var user: String
  public var security: Security
  public var tls: TLSOptions
  public var allowPlaintext: Bool
  public var loginMethod: LoginMethod = .automatic
  public var timeout: Duration
  public var connectTimeout: Duration

  public init(
    host: String, port: Int? = nil, user: String, security: Security = .implicitTLS, tls: TLSOptions = .verified,
    allowPlaintext: Bool = false, timeout: Duration = .seconds(60), connectTimeout: Duration = .seconds(30)
  ) {
    self.host = host
    self.port = port ?? (security == .implicitTLS ? 995 : 110)
    self.user = user
    self.security = security
    self.tls = tls
    self.allowPlaintext = allowPlaintext
    self.timeout = timeout
    self.connectTimeout = connectTimeout
  }
}
