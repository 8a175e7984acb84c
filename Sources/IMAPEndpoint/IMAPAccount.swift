import Transport

/// Where and how to reach an IMAP account.
public struct IMAPAccount: Sendable, Equatable {
  public enum Security: Sendable, Equatable {
    /// `imaps://`: TLS from the first byte.
    case implicitTLS
    /// `imap://`: STARTTLS is required, unless `allowPlaintext`.
    case startTLS
  }

  public var host: String
  public var port: Int
  public var user: String
  public var security: Security
  public var tls: TLSOptions
  /// Allow `imap://` to continue without TLS when the server offers no STARTTLS.
  public var allowPlaintext: Bool
  /// Use COMPRESS=DEFLATE when offered.
  public var compress: Bool
  public var timeout: Duration
  public var connectTimeout: Duration
  /// How a password is sent: `.automatic` picks AUTHENTICATE PLAIN when offered, else LOGIN.
  public var loginMethod: LoginMethod = .automatic

  public enum LoginMethod: String, Sendable, Equatable, CaseIterable {
    case automatic = "auto"
    case plain
    case login
  }

  public init(
    host: String, port: Int? = nil, user: String, security: Security = .implicitTLS, tls: TLSOptions = .verified,
    allowPlaintext: Bool = false, compress: Bool = true, timeout: Duration = .seconds(60),
    connectTimeout: Duration = .seconds(30)
  ) {
    self.host = host
    self.port = port ?? (security == .implicitTLS ? 993 : 143)
    self.user = user
    self.security = security
    self.tls = tls
    self.allowPlaintext = allowPlaintext
    self.compress = compress
    self.timeout = timeout
    self.connectTimeout = connectTimeout
  }
}
