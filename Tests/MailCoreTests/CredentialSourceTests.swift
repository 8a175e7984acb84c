import Testing

@testable import MailCore

/// `CredentialSource.logIn` without a server: when a renewable credential is asked again,
/// and what a second refusal becomes.
@Suite struct CredentialSourceTests {
  struct Refused: Error { let text: String }
  struct Dropped: Error {}

  /// Hands out `token-1`, `token-2`, … and counts how often it was asked.
  final class Counter: RenewableCredential, @unchecked Sendable {
    var runs = 0
    let origin = "--oauth-token-command"
    func renew() throws -> Credential {
      runs += 1
      return .oauth2Token("token-\(runs)")
    }
  }

  static func refusal(_ error: any Error) -> String? { (error as? Refused)?.text }

  @Test func aFixedCredentialIsUsedAsItIsAndARefusalPassesThrough() {
    var tried: [Credential] = []
    #expect(throws: Refused.self) {
      try CredentialSource.fixed(.password("pw")).logIn(
        peer: "h:993", user: "u",
        attempt: {
          tried.append($0)
          throw Refused(text: "no")
        }, refusal: Self.refusal)
    }
    #expect(tried == [.password("pw")])
  }

  @Test func aRenewableCredentialIsFetchedForEachLogin() throws {
    let counter = Counter()
    var tried: [Credential] = []
    for _ in 0..<2 {
      try CredentialSource.renewable(counter).logIn(
        peer: "h:993", user: "u", attempt: { tried.append($0) }, refusal: Self.refusal)
    }
    #expect(tried == [.oauth2Token("token-1"), .oauth2Token("token-2")])
  }

  @Test func aRefusedTokenIsRenewedOnce() throws {
    let counter = Counter()
    var tried: [Credential] = []
    try CredentialSource.renewable(counter).logIn(
      peer: "h:993", user: "u",
      attempt: {
        tried.append($0)
        if tried.count == 1 { throw Refused(text: "expired") }
      }, refusal: Self.refusal)
    #expect(tried == [.oauth2Token("token-1"), .oauth2Token("token-2")])
  }

  @Test func aSecondRefusalSaysRenewingDidNotHelp() {
    let counter = Counter()
    #expect(
      throws: RenewedCredentialRefused(
        peer: "h:993", user: "u", origin: "--oauth-token-command", serverText: "AUTHENTICATIONFAILED")
    ) {
      try CredentialSource.renewable(counter).logIn(
        peer: "h:993", user: "u", attempt: { _ in throw Refused(text: "AUTHENTICATIONFAILED") },
        refusal: Self.refusal)
    }
    #expect(counter.runs == 2)
  }

  @Test func otherFailuresAreNotRenewedAway() {
    let counter = Counter()
    #expect(throws: Dropped.self) {
      try CredentialSource.renewable(counter).logIn(
        peer: "h:993", user: "u", attempt: { _ in throw Dropped() }, refusal: Self.refusal)
    }
    #expect(counter.runs == 1)
  }
}
