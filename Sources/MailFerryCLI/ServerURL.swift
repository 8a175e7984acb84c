import Foundation
import MailCore
import Providers

/// A server given on the command line: `imaps://user@host:port`, or a provider profile's
/// short form `gmail:alice@gmail.com` (IMAP; `gmail+pop3:` and `gmail+smtp:` for the
/// others), which takes host, port and security from the profile. The user may be
/// percent-encoded (`me%40example.org@imap.example.org`). A password in the URL is refused.
struct ServerURL: Equatable {
  enum Scheme: String, CaseIterable {
    case imap, imaps, pop3, pop3s, smtp, smtps, lmtp

    /// The profile's server entry this scheme uses.
    var profileKind: String {
      switch self {
      case .imap, .imaps: return "imap"
      case .pop3, .pop3s: return "pop3"
      case .smtp, .smtps, .lmtp: return "smtp"
      }
    }
  }
  /// Other spellings people use.
  static let schemeAliases: [String: Scheme] = ["pop": .pop3, "pops": .pop3s]

  let scheme: Scheme
  let host: String
  let port: Int?
  let user: String?
  let path: String
  /// The provider profile the URL named, or whose server it names (`imap.gmail.com`).
  let profile: Profile?

  init(_ text: String, catalog: ProfileCatalog = .shared) throws {
    if let expanded = try Self.expandProfileForm(text, catalog: catalog) {
      self = expanded
      return
    }
    guard let components = URLComponents(string: text), let schemeText = components.scheme?.lowercased() else {
      throw ConfigurationError(
        what: "URL '\(Self.redacted(text))'", problem: "is not a URL",
        fix: "write it like imaps://user@imap.example.org")
    }
    guard let scheme = Scheme(rawValue: schemeText) ?? Self.schemeAliases[schemeText] else {
      throw ConfigurationError(
        what: "URL '\(Self.redacted(text))'", problem: "has an unknown scheme '\(schemeText)'",
        fix: "use one of " + Scheme.allCases.map { "\($0.rawValue)://" }.joined(separator: ", "))
    }
    guard let host = components.host, !host.isEmpty else {
      throw ConfigurationError(
        what: "URL '\(Self.redacted(text))'", problem: "names no host", fix: "write it like \(scheme)://user@host")
    }
    if components.password != nil {
      throw ConfigurationError(
        what: "URL '\(Self.redacted(text))'", problem: "contains a password",
        fix: "remove it from the URL and use MAILFERRY_PASSWORD, --password-file or --password-command")
    }
    if let port = components.port, !(1...65535).contains(port) {
      throw ConfigurationError(
        what: "URL '\(Self.redacted(text))'", problem: "has port \(port)", fix: "use a port from 1 to 65535")
    }
    self.scheme = scheme
    self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
    port = components.port
    user = components.percentEncodedUser?.removingPercentEncoding
    path = components.path
    profile = catalog.profile(forHost: self.host, port: port, kind: scheme.profileKind)
  }

  private init(scheme: Scheme, host: String, port: Int?, user: String?, path: String, profile: Profile?) {
    self.scheme = scheme
    self.host = host
    self.port = port
    self.user = user
    self.path = path
    self.profile = profile
  }

  /// Whether `text` is a profile's short form (`gmail:…`, `gmail+pop3:…`).
  static func isProfileForm(_ text: String, catalog: ProfileCatalog = .shared) -> Bool {
    guard !text.contains("://"), let colon = text.firstIndex(of: ":") else { return false }
    let id = text[..<colon].split(separator: "+", maxSplits: 1).first.map(String.init) ?? ""
    return catalog[id] != nil
  }

  /// `ID[+KIND]:USER[/FOLDER]` → the profile's server of that kind for USER.
  private static func expandProfileForm(_ text: String, catalog: ProfileCatalog) throws -> ServerURL? {
    guard isProfileForm(text, catalog: catalog), let colon = text.firstIndex(of: ":") else { return nil }
    let head = text[..<colon].split(separator: "+", maxSplits: 1).map(String.init)
    let profile = catalog[head[0]]!
    let kind = head.count > 1 ? head[1].lowercased() : "imap"
    guard let server = profile.servers[kind == "pop" ? "pop3" : kind] else {
      throw ConfigurationError(
        what: "'\(text)'", problem: "names no server: profile \(profile.id) has no \(kind) server",
        fix: "use one of " + profile.servers.keys.sorted().map { "\(profile.id)+\($0):USER" }.joined(separator: ", "))
    }
    guard !server.host.isEmpty else {
      throw ConfigurationError(
        what: "'\(text)'", problem: "names no host: \(profile.name) runs on your own server",
        fix: "write the server's URL and name the profile, e.g. imaps://USER@HOST --source-profile \(profile.id)")
    }
    let rest = text[text.index(after: colon)...]
    let user = String(rest.prefix { $0 != "/" })
    guard !user.isEmpty else {
      throw ConfigurationError(what: "'\(text)'", problem: "names no user", fix: "write it like \(profile.id):USER")
    }
    let scheme: Scheme
    switch (kind, server.security) {
    case ("imap", "tls"): scheme = .imaps
    case ("imap", _): scheme = .imap
    case ("pop3", "tls"), ("pop", "tls"): scheme = .pop3s
    case ("pop3", _), ("pop", _): scheme = .pop3
    case ("smtp", "tls"): scheme = .smtps
    default: scheme = .smtp
    }
    return ServerURL(
      scheme: scheme, host: server.host, port: server.port, user: user, path: String(rest.dropFirst(user.count)),
      profile: profile)
  }

  /// The URL with any password replaced, for messages.
  /// The URL as an error may show it: whatever could be a password (between the user name
  /// and the last `@`, or a "port" that is not a number) replaced, whether or not the
  /// text parses as a URL.
  static func redacted(_ text: String) -> String {
    guard let schemeEnd = text.range(of: "://") else { return text }
    let rest = text[schemeEnd.upperBound...]
    let authorityEnd = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
    let authority = rest[..<authorityEnd]
    if let at = authority.lastIndex(of: "@") {
      guard let colon = authority[..<at].firstIndex(of: ":") else { return text }
      return String(text[..<colon]) + ":<redacted>" + String(text[at...])
    }
    if let colon = authority.lastIndex(of: ":"), !authority.contains("]"),
      !authority[authority.index(after: colon)...].allSatisfy(\.isNumber)
    {
      return String(text[..<colon]) + ":<redacted>" + String(text[authorityEnd...])
    }
    return text
  }

  /// The URL in its long form, for parsing again (`gmail:a@b` → `imaps://a%40b@imap.gmail.com:993`).
  var text: String {
    let userPart = user.map { ($0.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? $0) + "@" } ?? ""
    let hostPart = host.contains(":") ? "[\(host)]" : host
    let pathPart = path.isEmpty ? "" : (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path)
    return "\(scheme.rawValue)://\(userPart)\(hostPart)\(port.map { ":\($0)" } ?? "")\(pathPart)"
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
  var kind: FailureKind { .configuration }
}
