import Testing

@testable import MailCore

/// The token-carrying SASL messages, against the examples in RFC 7628 §4.1 (OAUTHBEARER)
/// and Microsoft's IMAP/POP/SMTP OAuth page (XOAUTH2).
@Suite struct OAuth2SASLTests {
  @Test func oauthBearerAsInRFC7628() {
    let message = OAuth2SASL.oauthBearer(
      user: "user@example.com", host: "server.example.com", port: 143,
      token: "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==")
    #expect(
      Base64.encode(message)
        == "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2c9PQEB"
    )
  }

  @Test func xoauth2AsMicrosoftDocumentsIt() {
    let message = OAuth2SASL.xoauth2(
      user: "test@contoso.onmicrosoft.com", token: "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA")
    #expect(
      Base64.encode(message)
        == "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ=="
    )
  }

  @Test func theGS2HeaderEscapesCommasAndEquals() {
    #expect(OAuth2SASL.saslName("a,b=c@example.org") == "a=2Cb=3Dc@example.org")
    #expect(
      String(decoding: OAuth2SASL.oauthBearer(user: "x=y", host: "h", port: 1, token: "t"), as: UTF8.self).hasPrefix(
        "n,a=x=3Dy,\u{1}"))
  }

  @Test func anErrorChallengeIsAnsweredAsEachMechanismRequires() {
    #expect(OAuth2SASL.answerToErrorChallenge(mechanism: "OAUTHBEARER") == [0x01])
    #expect(OAuth2SASL.answerToErrorChallenge(mechanism: "XOAUTH2") == [])
  }
}
