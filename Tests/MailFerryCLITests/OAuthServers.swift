import Foundation
import ServerFixtures

/// For the OAuth2 tests: one token service and one private Dovecot that validates tokens by
/// asking it (introspection), shared by every test in the process; each test uses its own
/// users and sets their token policy. The Postfix in front of it starts on first use.
final class OAuthServers: @unchecked Sendable {
  let tokens: OAuthTokenService
  let dovecot: DovecotServer

  private init() throws {
    tokens = try OAuthTokenService()
    var flavor = DovecotServer.Flavor.standard
    flavor.oauthIntrospectionURL = tokens.introspectionURL
    dovecot = try DovecotServer(flavor: flavor)
  }

  private nonisolated(unsafe) static var instance: Result<OAuthServers, any Error>?
  private nonisolated(unsafe) static var postfixInstance: Result<PostfixServer, any Error>?
  private static let lock = NSLock()

  static func shared() throws -> OAuthServers {
    try lock.withLock {
      if instance == nil {
        instance = Result { try OAuthServers() }
        atexit {
          OAuthServers.postfixInstance.flatMap { try? $0.get() }?.stop()
          OAuthServers.instance.flatMap { try? $0.get() }?.dovecot.stop()
        }
      }
      return try instance!.get()
    }
  }

  /// A private Postfix whose SMTP AUTH goes through this Dovecot, so it takes the tokens too.
  func postfix() throws -> PostfixServer {
    try Self.lock.withLock {
      if Self.postfixInstance == nil {
        Self.postfixInstance = Result { try PostfixServer(dovecot: dovecot) }
      }
      return try Self.postfixInstance!.get()
    }
  }
}
