/// The SASL messages that carry an OAuth2 access token, the same for IMAP, POP3 and SMTP.
public enum OAuth2SASL {
  /// OAUTHBEARER's initial response (RFC 7628 §3.1): a GS2 header naming the user, then
  /// host, port and the bearer token, each ended by ^A, and a closing ^A.
  public static func oauthBearer(user: String, host: String, port: Int, token: String) -> [UInt8] {
    Array("n,a=\(saslName(user)),\u{1}host=\(host)\u{1}port=\(port)\u{1}auth=Bearer \(token)\u{1}\u{1}".utf8)
  }

  /// XOAUTH2's initial response, as Google and Microsoft document it.
  public static func xoauth2(user: String, token: String) -> [UInt8] {
    Array("user=\(user)\u{1}auth=Bearer \(token)\u{1}\u{1}".utf8)
  }

  /// The answer to a challenge after the initial response, which for these mechanisms is
  /// the server's error report: OAUTHBEARER requires a single ^A (RFC 7628 §3.2.3), XOAUTH2
  /// an empty response. The server then sends its failure.
  public static func answerToErrorChallenge(mechanism: String) -> [UInt8] {
    mechanism.uppercased() == "OAUTHBEARER" ? [0x01] : []
  }

  /// A user name inside the GS2 header, where `,` and `=` are escaped (RFC 5801 §4).
  static func saslName(_ user: String) -> String {
    var escaped = ""
    for character in user {
      switch character {
      case "=": escaped += "=3D"
      case ",": escaped += "=2C"
      default: escaped.append(character)
      }
    }
    return escaped
  }
}
