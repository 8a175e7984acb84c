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
  /// When to use COMPRESS=DEFLATE, if the server offers it.
  public var compression: Compression
  /// Whether COMPRESS=DEFLATE may be used at all.
  public var compress: Bool {
    get { compression != .never }
    set { compression = newValue ? .always : .never }
  }

  public enum Compression: Sendable, Equatable {
    /// Only once the link has proved slow: deflating costs both ends CPU that a fast link
    /// does not repay (on loopback or a LAN it makes a migration 2–3 times slower).
    case automatic
    /// From the login on (`--compress`).
    case always
    /// Never (`--no-compress`).
    case never
  }
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
    allowPlaintext: Bool = false, compress: Bool = true, compression: Compression? = nil,
    timeout: Duration = .seconds(60),
    connectTimeout: Duration = .seconds(30)
  ) {
    self.host = host
    self.port = port ?? (security == .implicitTLS ? 993 : 143)
    self.user = user
    self.security = security
    self.tls = tls
    self.allowPlaintext = allowPlaintext
    self.compression = compression ?? (compress ? .always : .never)
    self.timeout = timeout
    self.connectTimeout = connectTimeout
  }
}
