/// Where each login gets its credential.
///
/// A password is read once per job and reused for every connection (`fixed`). An OAuth2
/// access token expires, often after an hour, so a `renewable` source is asked for a new
/// one at every login (a reconnect hours into a job gets a token that is still valid), and
/// once more when the server refuses the one it gave.
public enum CredentialSource: Sendable {
  case fixed(Credential)
  case renewable(any RenewableCredential)

  /// Logs in with `attempt`. When the server refuses a renewable credential (`refusal`
  /// answers the server's words for such an error, nil for any other), asks for a new
  /// one and tries once more; a second refusal is `RenewedCredentialRefused`. A fixed
  /// credential's refusal, and every other error, passes through unchanged.
  public func logIn(
    peer: String, user: String, attempt: (Credential) throws -> Void, refusal: (any Error) -> String?
  ) throws {
    switch self {
    case .fixed(let credential):
      try attempt(credential)
    case .renewable(let source):
      do {
        try attempt(try source.renew())
      } catch  where refusal(error) != nil {
        do {
          try attempt(try source.renew())
        } catch {
          guard let serverText = refusal(error) else { throw error }
          throw RenewedCredentialRefused(peer: peer, user: user, origin: source.origin, serverText: serverText)
        }
      }
    }
  }
}

/// A credential fetched anew for each login, such as an OAuth2 access token printed by a
/// command the user gives.
public protocol RenewableCredential: Sendable {
  /// Where it comes from, as the user named it (`--oauth-token-command`), for errors.
  var origin: String { get }
  /// A fresh credential. Throws a `UserFacingError` naming `origin` when none can be had.
  func renew() throws -> Credential
}

/// The server refused a token, and again the one renewal gave: renewing is not the fix.
public struct RenewedCredentialRefused: UserFacingError, Equatable {
  public let peer: String
  public let user: String
  public let origin: String
  public let serverText: String

  public init(peer: String, user: String, origin: String, serverText: String) {
    self.peer = peer
    self.user = user
    self.origin = origin
    self.serverText = serverText
  }

  public var description: String {
    "\(peer): login as \(user) failed: the server refused the token from \(origin), and again a fresh one"
      + (serverText.isEmpty ? "" : " (\(serverText))")
  }

  public var hint: String? {
    "the token command's tokens are not accepted for \(user): check that they are issued for this account with "
      + "the mail scope (IMAP, POP or SMTP access) and that the refresh token or consent is still valid; "
      + "docs/oauth2.md shows commands that work"
  }

  public var scope: FailureScope { .job }
  public var isTemporary: Bool { false }
  public var kind: FailureKind { .credentials }
}
