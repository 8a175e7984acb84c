import Foundation

/// One side of a job as given on the command line: a server URL, an archive directory, or a
/// local Maildir / mbox / .eml directory (`maildir:PATH`, `mbox:PATH`, `eml:PATH`).
enum JobEndpoint: Equatable {
  enum LocalKind: String, CaseIterable {
    case maildir, mbox, eml
  }

  case server(ServerURL)
  case archive(path: String)
  case local(LocalKind, path: String)

  /// A word with `://` or a profile's short form (`gmail:alice@gmail.com`) is a server;
  /// `maildir:`, `mbox:` or `eml:` a local store; `archive:` or anything else a path to an
  /// archive directory.
  static func parse(_ text: String) throws -> JobEndpoint {
    if text.contains("://") || ServerURL.isProfileForm(text) { return .server(try ServerURL(text)) }
    for kind in LocalKind.allCases where text.hasPrefix(kind.rawValue + ":") {
      let path = String(text.dropFirst(kind.rawValue.count + 1))
      guard !path.isEmpty else {
        throw ConfigurationError(
          what: "'\(text)'", problem: "names no path", fix: "write it like \(kind.rawValue):PATH")
      }
      return .local(kind, path: absolute(path))
    }
    let path = text.hasPrefix("archive:") ? String(text.dropFirst("archive:".count)) : text
    guard !path.isEmpty else {
      throw ConfigurationError(what: "'\(text)'", problem: "names no directory", fix: "give the archive's directory")
    }
    return .archive(path: absolute(path))
  }

  static func absolute(_ path: String) -> String {
    let expanded = (path as NSString).expandingTildeInPath
    if expanded.hasPrefix("/") { return (expanded as NSString).standardizingPath }
    return ((FileManager.default.currentDirectoryPath + "/" + expanded) as NSString).standardizingPath
  }

  var serverURL: ServerURL? {
    if case .server(let url) = self { return url }
    return nil
  }

  var archivePath: String? {
    if case .archive(let path) = self { return path }
    return nil
  }

  /// How the job's state file and the archive's catalog name this side.
  var identity: String {
    switch self {
    case .server(let url): return url.display
    case .archive(let path): return "archive:\(path)"
    case .local(let kind, let path): return "\(kind.rawValue):\(path)"
    }
  }

  /// The folder a server URL names (`imaps://u@h/Projects` → `Projects`), else empty.
  var folder: String {
    guard case .server(let url) = self else { return "" }
    return String(url.path.drop { $0 == "/" })
  }

  /// The kind of store, for messages: "an IMAP account", "an archive", "a Maildir".
  var kindDescription: String {
    switch self {
    case .server(let url):
      switch url.scheme {
      case .imap, .imaps: return "an IMAP account"
      case .pop3, .pop3s: return "a POP3 maildrop"
      case .smtp, .smtps: return "SMTP delivery"
      case .lmtp: return "LMTP delivery"
      }
    case .archive: return "an archive"
    case .local(.maildir, _): return "a Maildir"
    case .local(.mbox, _): return "mbox files"
    case .local(.eml, _): return ".eml files"
    }
  }

  var isPOP3: Bool { serverURL.map { $0.scheme == .pop3 || $0.scheme == .pop3s } ?? false }
  /// SMTP or LMTP: the target sends mail rather than storing it.
  var delivers: Bool { serverURL.map { [.smtp, .smtps, .lmtp].contains($0.scheme) } ?? false }

  /// A file-name-safe form of `identity` for default state file names.
  var slug: String {
    let text: String
    switch self {
    case .server(let url): text = "\(url.user ?? "")@\(url.host)\(url.port.map { "-\($0)" } ?? "")"
    case .archive(let path): text = "archive" + path
    case .local(let kind, let path): text = kind.rawValue + path
    }
    return text.map { $0.isLetter || $0.isNumber || "@.-_".contains($0) ? String($0) : "_" }.joined()
  }
}
