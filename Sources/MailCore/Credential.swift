/// How to log in to a server, whatever its protocol.
public enum Credential: Sendable, Equatable {
  case password(String)
  /// An OAuth2 access token: XOAUTH2 or OAUTHBEARER, whichever the server offers.
  case oauth2Token(String)

  /// The password or token itself (never printed; traces redact it).
  public var secret: String {
    switch self {
    case .password(let password): return password
    case .oauth2Token(let token): return token
    }
  }
}
