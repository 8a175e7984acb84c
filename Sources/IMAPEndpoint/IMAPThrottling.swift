import IMAPCodec

/// Recognises a server's "slow down" among its NO, BAD and BYE answers: the response codes
/// `[THROTTLED]`, `[UNAVAILABLE]`, `[LIMIT]` and `[INUSE]` (RFC 5530), and the texts
/// Microsoft 365 and Gmail send without a code. Pure: a status in, an answer out.
public enum IMAPThrottling {
  /// Response codes that say "not now" rather than "never".
  static let codes: Set<String> = ["THROTTLED", "UNAVAILABLE", "LIMIT", "INUSE"]

  /// Lower-cased fragments of providers' throttling texts.
  static let texts = [
    "request is throttled",  // Microsoft 365: "Request is throttled. Suggested Backoff Time: N milliseconds"
    "server unavailable",  // Microsoft 365: "Server Unavailable. 15"
    "user is authenticated but not connected",  // Microsoft 365 after a session limit
    "too many simultaneous connections",  // Gmail
    "too many concurrent connections",
    "maximum number of connections",  // Dovecot's mail_max_userip_connections
    "exceeded command or bandwidth limits",  // Gmail: "Account exceeded command or bandwidth limits"
    "bandwidth limit",
    "try again later",
  ]

  /// Whether a NO, BAD or BYE is the server throttling this client. `[LIMIT]` (RFC 5530)
  /// covers both rate limits and a message too large for the server (Dovecot: "Mail size
  /// is too large"); the second is a permanent refusal of that message, not throttling.
  public static func isThrottling(_ status: ResponseStatus) -> Bool {
    switch status.code {
    case .limit?: return !isAboutSize(status.text)
    case .other(let name, _)? where codes.contains(name.uppercased()): return true
    default: return isThrottling(text: status.text)
    }
  }

  /// Whether a server's words (without a code) are one of the known throttling texts.
  public static func isThrottling(text: String) -> Bool {
    let lowered = text.lowercased()
    return texts.contains { lowered.contains($0) }
  }

  static func isAboutSize(_ text: String) -> Bool {
    let lowered = text.lowercased()
    return ["size", "too large", "too big", "too long"].contains { lowered.contains($0) }
  }

  /// The pause Microsoft 365 asks for: "Suggested Backoff Time: 299961 milliseconds".
  public static func suggestedDelay(in text: String) -> Duration? {
    let lowered = text.lowercased()
    guard let marker = lowered.range(of: "suggested backoff time:") else { return nil }
    let digits = lowered[marker.upperBound...].drop { $0 == " " }.prefix { $0.isNumber }
    guard let milliseconds = Int(digits) else { return nil }
    return .milliseconds(milliseconds)
  }
}
