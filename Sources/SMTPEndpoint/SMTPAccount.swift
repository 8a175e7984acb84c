import Transport

/// Where and how to inject messages: an SMTP submission or relay server, or an LMTP
/// server delivering into a mail store.
public struct SMTPAccount: Sendable, Equatable {
  public enum Dialect: String, Sendable, Equatable {
    /// RFC 5321: EHLO (HELO fallback), one reply for the whole message.
    case smtp
    /// RFC 2033: LHLO, one reply per accepted recipient after the data.
    case lmtp
  }

  public enum Security: Sendable, Equatable {
    /// `smtps://`: TLS from the first byte.
    case implicitTLS
    /// `smtp://`: STARTTLS required unless `allowPlaintext`.
    case startTLS
    /// `lmtp://`: STARTTLS when offered, else plain (LMTP runs on trusted links); a
    /// password is still never sent in clear unless `allowPlaintext`.
    case startTLSIfOffered
  }

  /// How a password is sent: `.automatic` picks AUTH PLAIN when offered, else LOGIN.
  public enum LoginMethod: String, Sendable, Equatable, CaseIterable {
    case automatic = "auto"
    case plain
    case login
  }

  public var dialect: Dialect
  public var host: String
  public var port: Int
  /// Who logs in (AUTH); nil to send without logging in.
  public var user: String?
  public var security: Security
  public var tls: TLSOptions
  public var allowPlaintext: Bool
  public var loginMethod: LoginMethod = .automatic
  /// The name MailFerry gives in EHLO/LHLO.
  public var clientName: String
  public var timeout: Duration
  public var connectTimeout: Duration

  public init(
    dialect: Dialect, host: String, port: Int? = nil, user: String? = nil, security: Security? = nil,
    tls: TLSOptions = .verified, allowPlaintext: Bool = false, clientName: String = "localhost",
    timeout: Duration = .seconds(120), connectTimeout: Duration = .seconds(30)
  ) {
    self.dialect = dialect
    self.host = host
    let security = security ?? (dialect == .lmtp ? .startTLSIfOffered : .startTLS)
    self.security = security
    self.port = port ?? (dialect == .lmtp ? 24 : security == .implicitTLS ? 465 : 587)
    self.user = user
    self.tls = tls
    self.allowPlaintext = allowPlaintext
    self.clientName = clientName
    self.timeout = timeout
    self.connectTimeout = connectTimeout
  }
}
