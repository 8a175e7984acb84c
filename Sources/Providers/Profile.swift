/// What MailFerry knows about one mail provider, read from `Profiles/<id>.json`
/// (docs/providers.md describes the format): its servers, how people log in, its folder
/// names and quirks, and its limits, each fact with the source it comes from.
public struct Profile: Codable, Sendable, Equatable {
  /// The version of the file format; this MailFerry reads 1.
  public var format: Int
  /// The name used on the command line (`gmail:alice@gmail.com`, `--source-profile gmail`).
  public var id: String
  public var name: String
  /// Mail domains this provider hosts (for recognising an address).
  public var domains: [String]
  /// The provider's page on setting up a mail client.
  public var help: String
  /// `imap`, `pop3`, `smtp`.
  public var servers: [String: Server]
  public var login: Login
  /// RFC 6154 attribute (`\Sent`, …, and `\Important`) → folder names as the provider shows
  /// them, in its common languages.
  public var specialUse: [String: [String]]
  public var specialUseSource: String
  public var folders: Folders
  /// `messageBytes`, `connections`, `downloadBytesPerDay`, … (see `LimitName`).
  public var limits: [String: Limit]
  /// Where a provider publishes no limit (or only some): what was looked at, with a URL.
  public var limitsNote: String?
  public var notes: [String]

  public struct Server: Codable, Sendable, Equatable {
    /// Empty for a generic server whose host the user gives.
    public var host: String
    public var port: Int
    /// `tls` (from the first byte) or `starttls`.
    public var security: String
    public var source: String
  }

  public struct Login: Codable, Sendable, Equatable {
    /// `password`, `oauth2`.
    public var methods: [String]
    /// `account-password`, `app-password`, `app-password-if-2fa` or `none`.
    public var password: String
    /// `required`, `optional` or `unavailable`.
    public var oauth2: String
    public var help: String
    public var source: String
    public var note: String?
  }

  public struct Folders: Codable, Sendable, Equatable {
    /// Gmail-style labels: one message in several folders, and all of them in `\All`.
    public var labels: Bool
    /// Folders a migration does not copy as folders (views such as Starred).
    public var skip: [String]
    public var note: String?
    public var source: String?
  }

  public struct Limit: Codable, Sendable, Equatable {
    public var value: Int64
    public var source: String
    public var note: String?
  }

  /// The limits MailFerry knows and acts on.
  public enum LimitName: String, CaseIterable, Sendable {
    case messageBytes, connections, downloadBytesPerDay, uploadBytesPerDay, messagesPerDay, recipientsPerDay
    case messagesPerMinute, bandwidthBytesPerSecond
  }

  public func limit(_ name: LimitName) -> Int64? { limits[name.rawValue]?.value }

  /// Folder names for a special use, first the provider's own.
  public func names(for specialUse: String) -> [String] {
    specialUse == "" ? [] : self.specialUse.first { $0.key.uppercased() == specialUse.uppercased() }?.value ?? []
  }

  /// What is wrong with this profile, if anything: missing facts, facts without a
  /// source, values MailFerry cannot use.
  public func problems() -> [String] {
    var problems: [String] = []
    if format != 1 { problems.append("format \(format) is not 1") }
    if id.isEmpty || !id.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) }) {
      problems.append("id '\(id)' must be lowercase letters and digits")
    }
    if name.isEmpty { problems.append("no name") }
    if !Self.isURL(help) { problems.append("help is not a URL: '\(help)'") }
    if servers["imap"] == nil { problems.append("no imap server") }
    for (kind, server) in servers.sorted(by: { $0.key < $1.key }) {
      if !["imap", "pop3", "smtp"].contains(kind) { problems.append("unknown server kind '\(kind)'") }
      if !["tls", "starttls"].contains(server.security) {
        problems.append("\(kind): security '\(server.security)' is not tls or starttls")
      }
      if !(1...65535).contains(server.port) { problems.append("\(kind): port \(server.port)") }
      if !Self.isURL(server.source) { problems.append("\(kind): no source") }
    }
    if login.methods.isEmpty || !login.methods.allSatisfy({ ["password", "oauth2"].contains($0) }) {
      problems.append("login.methods must be password and/or oauth2")
    }
    if !["account-password", "app-password", "app-password-if-2fa", "none"].contains(login.password) {
      problems.append("login.password '\(login.password)'")
    }
    if !["required", "optional", "unavailable"].contains(login.oauth2) {
      problems.append("login.oauth2 '\(login.oauth2)'")
    }
    if !Self.isURL(login.source) { problems.append("login: no source") }
    if specialUseSource.isEmpty { problems.append("specialUseSource is empty") }
    for key in specialUse.keys where !key.hasPrefix("\\") {
      problems.append("specialUse key '\(key)' is not an attribute like \\Sent")
    }
    if limits.isEmpty && !(limitsNote.map { $0.contains("https://") || $0.contains("http://") } ?? false) {
      problems.append("no limits and no limitsNote saying where none was found (with a URL)")
    }
    for (key, limit) in limits.sorted(by: { $0.key < $1.key }) {
      if LimitName(rawValue: key) == nil { problems.append("unknown limit '\(key)'") }
      if limit.value <= 0 { problems.append("limit \(key) is \(limit.value)") }
      if !Self.isURL(limit.source) { problems.append("limit \(key): no source") }
    }
    return problems
  }

  static func isURL(_ text: String) -> Bool { text.hasPrefix("https://") || text.hasPrefix("http://") }
}
