import Foundation
import ServerFixtures
import Testing

@testable import MailFerryCLI

/// `--oauth-token-command` at login: against a Dovecot that asks a token service whether
/// each token is active, with a token command that asks that service for a new token
/// (curl), as a real one asks Google or Microsoft.
@Suite struct OAuthTokenLoginTests {
  let servers: OAuthServers
  let user: DovecotServer.User

  init() throws {
    servers = try OAuthServers.shared()
    user = try servers.dovecot.createUser("oauth")
  }

  var imaps: String { "imaps://\(user.name)@localhost:\(servers.dovecot.imapsPort)" }
  var pop3s: String { "pop3s://\(user.name)@localhost:\(servers.dovecot.pop3sPort)" }
  var tokenOptions: [String] {
    ["--ca-file", servers.dovecot.caFile, "--oauth-token-command", servers.tokens.tokenCommand(for: user.name)]
  }

  @Test func eachLoginRunsTheCommandOnce() {
    let imap = CapturedRun(["probe", imaps] + tokenOptions)
    #expect(imap.status == .success, "\(imap.err)")
    #expect(imap.out.contains("Login:         OK as \(user.name)"))
    #expect(servers.tokens.issuedCount(for: user.name) == 1)
    let pop3 = CapturedRun(["probe", pop3s] + tokenOptions)
    #expect(pop3.status == .success, "\(pop3.err)")
    #expect(pop3.out.contains("Login:         OK as \(user.name) (AUTH OAUTHBEARER)"))
    #expect(servers.tokens.issuedCount(for: user.name) == 2)
  }

  @Test func aRefusedTokenIsRenewedOnceAndTheLoginSucceeds() {
    servers.tokens.setPolicy(.init(refusedTokens: 1), for: user.name)
    let run = CapturedRun(["probe", imaps] + tokenOptions)
    #expect(run.status == .success, "\(run.err)")
    #expect(run.out.contains("Login:         OK as \(user.name)"))
    #expect(servers.tokens.issuedCount(for: user.name) == 2)
  }

  @Test func tokensThatRenewingCannotFixStopWithAClearError() {
    servers.tokens.setPolicy(.init(refuseAll: true), for: user.name)
    for url in [imaps, pop3s] {
      let before = servers.tokens.issuedCount(for: user.name)
      let run = CapturedRun(["probe", url] + tokenOptions)
      #expect(run.status == .noPermission)
      #expect(run.out.contains("Login:         FAILED as \(user.name)"))
      #expect(
        run.err.contains(
          "login as \(user.name) failed: the server refused the token from --oauth-token-command, and again a fresh one"
        ), "\(run.err)")
      #expect(run.err.contains("hint: the token command's tokens are not accepted for \(user.name)"))
      #expect(servers.tokens.issuedCount(for: user.name) == before + 2, "one token, then exactly one renewal")
    }
  }
}
