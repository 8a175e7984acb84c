import Foundation
import MailCore

/// A server given on the command line: `imaps://user@host:port`. The user may be
/// percent-encoded (`me%40example.org@imap.example.org`). A password in the URL is refused.
struct ServerURL: Equatable {
  enum Scheme: String, CaseIterable {
    case imap, imaps, pop3, pop3s, smtp, smtps, lmtp
  }
  /// Other spellings people use.
  static let schemeAliases: [String: Scheme] = ["pop": .pop3, "pops": .pop3s]

  let scheme: Scheme
  let host: String
  let port: Int?
  let user: String?
  let path: String

  init(_ text: String) throws {
    guard let components = URLComponents(string: text), let schemeText = components.scheme?.lowercased() else {
      throw ConfigurationError(
        what: "URL '\(text)'", problem: "is not a URL", fix: "write it like imaps://user@imap.example.org")
    }
    guard let scheme = Scheme(rawValue: schemeText) ?? Self.schemeAliases[schemeText] else {
      throw ConfigurationError(
        what: "URL '\(text)'", problem: "has an unknown scheme '\(schemeText)'",
        fix: "use one of " + Scheme.allCases.map { "\($0.rawValue)://" }.joined(separator: ", "))
    }
    guard let host = components.host, !host.isEmpty else {
      throw ConfigurationError(
        what: "URL '\(text)'", problem: "names no host", fix: "write it like \(scheme)://user@host")
    }
    if components.password != nil {
      throw ConfigurationError(
        what: "URL '\(ServerURL.redacted(text))'", problem: "contains a password",
        fix: "remove it from the URL and use MAILFERRY_PASSWORD, --password-file or --password-command")
    }
    if let port = components.port, !(1...65535).contains(port) {
      throw ConfigurationError(what: "URL '\(text)'", problem: "has port \(port)", fix: "use a port from 1 to 65535")
    }
    self.scheme = scheme
    self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
    port = components.port
    user = components.percentEncodedUser?.removingPercentEncoding
    path = components.path
  }

  /// The URL with any password replaced, for messages.
  static func redacted(_ text: String) -> String {
    guard var components = URLComponents(string: text), components.password != nil else { return text }
    components.password = "<redacted>"
    return components.string ?? "<url>"
  }

  var display: String {
    let userPart = user.map { "\($0)@" } ?? ""
    let hostPart = host.contains(":") ? "[\(host)]" : host
    return "\(scheme.rawValue)://\(userPart)\(hostPart)\(port.map { ":\($0)" } ?? "")"
  }
}

/// A problem with what the user asked for: a bad URL, file or option value.
struct ConfigurationError: UserFacingError, Equatable {
  let what: String
  let problem: String
  let fix: String

  var description: String { "\(what) \(problem)" }
  var hint: String? { fix }
  var scope: FailureScope { .job }
  var isTemporary: Bool { false }
}
