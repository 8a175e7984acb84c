import Foundation
import MailCore
import Providers

/// `mailferry profiles [show NAME]`: the provider profiles this installation knows.
struct ProfilesCommand: Subcommand {
  static let spec = CommandSpec(
    name: "profiles", summary: "List the provider profiles (servers, logins, folder names, limits) or show one.",
    discussion: """
      A profile is a JSON file (docs/providers.md describes it). The installed ones are
      overridden by files of the same id in $XDG_CONFIG_HOME/mailferry/profiles/
      (~/.config/mailferry/profiles/). Use one as gmail:alice@gmail.com (IMAP),
      gmail+pop3:USER or gmail+smtp:USER, or with --source-profile / --target-profile.

      Examples:
        mailferry profiles
        mailferry profiles show microsoft365
        mailferry migrate gmail:alice@gmail.com fastmail:alice@fastmail.com
      """,
    positionals: [
      .init(name: "show", help: "'show' to print one profile", optional: true, choices: ["show"]),
      .init(name: "NAME", help: "The profile's id, as listed", optional: true),
    ],
    options: [.init(name: "json", valueName: nil, help: "show: print the profile's file as JSON.")])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let catalog = ProfileCatalog.shared
    switch arguments.positionals.first {
    case nil:
      try arguments.checkAllApply(to: "listing profiles")
      list(catalog, console: console)
      return catalog.unreadable.isEmpty ? .success : .partial
    case "show":
      guard arguments.positionals.count == 2 else {
        throw UsageError(command: Self.spec.name, message: "'show' needs a profile name")
      }
      let name = arguments.positionals[1]
      guard let profile = catalog[name] else { throw UnknownProfileError(name: name, known: catalog.sorted.map(\.id)) }
      if arguments.flag("json") {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        console.print(String(decoding: try encoder.encode(profile), as: UTF8.self))
      } else {
        console.print(ProfileText.render(profile, origin: catalog.origins[profile.id]))
      }
      return .success
    case let other?:
      throw UsageError(
        command: Self.spec.name, message: "unknown action '\(other)'; use 'profiles' or 'profiles show NAME'")
    }
  }

  private func list(_ catalog: ProfileCatalog, console: Console) {
    console.print("ID".padded(14) + "IMAP".padded(30) + "LOGIN".padded(26) + "NAME")
    for profile in catalog.sorted {
      let imap = profile.servers["imap"].map { $0.host.isEmpty ? "(your server)" : "\($0.host):\($0.port)" } ?? "—"
      console.print(profile.id.padded(14) + imap.padded(30) + ProfileText.login(profile).padded(26) + profile.name)
    }
    for (path, reason) in catalog.unreadable {
      console.warning("\(path) is not used: \(reason)")
    }
    let directories = ProfileCatalog.searchPath(environment: ProcessInfo.processInfo.environment)
    console.status("read from: " + directories.joined(separator: ", "))
  }
}

/// One profile for people.
enum ProfileText {
  static func login(_ profile: Profile) -> String {
    let password: String
    switch profile.login.password {
    case "app-password": password = "app password"
    case "app-password-if-2fa": password = "password (app password with 2FA)"
    case "account-password": password = "password"
    default: password = ""
    }
    switch profile.login.oauth2 {
    case "required": return "OAuth2 only"
    case "optional": return password.isEmpty ? "OAuth2" : "\(password) or OAuth2"
    default: return password.isEmpty ? "—" : password
    }
  }

  static func render(_ profile: Profile, origin: String?) -> String {
    var lines = ["\(profile.name) (\(profile.id))"]
    if let origin { lines.append("  file: \(origin)") }
    lines.append("  help: \(profile.help)")
    if !profile.domains.isEmpty { lines.append("  domains: " + profile.domains.joined(separator: ", ")) }
    lines.append("servers:")
    for kind in ["imap", "pop3", "smtp"] {
      guard let server = profile.servers[kind] else { continue }
      let host = server.host.isEmpty ? "(your server)" : server.host
      lines.append("  \(kind.padded(5))\(host):\(server.port) \(server.security)   source: \(server.source)")
    }
    lines.append("login: \(login(profile))   help: \(profile.login.help)")
    lines.append("  source: \(profile.login.source)")
    if let note = profile.login.note { lines.append("  \(note)") }
    lines.append("special-use folders:")
    for (use, names) in profile.specialUse.sorted(by: { $0.key < $1.key }) {
      lines.append("  \(use.padded(11))" + names.joined(separator: ", "))
    }
    lines.append("  source: \(profile.specialUseSource)")
    if !profile.folders.skip.isEmpty {
      lines.append("not copied as folders: " + profile.folders.skip.joined(separator: ", "))
    }
    if profile.folders.labels { lines.append("labels: one message can be in several folders (Gmail-style)") }
    if let note = profile.folders.note { lines.append("  \(note)") }
    lines.append("limits:")
    for name in Profile.LimitName.allCases {
      guard let limit = profile.limits[name.rawValue] else { continue }
      let value =
        name.rawValue.hasSuffix("Bytes") || name.rawValue.contains("BytesPer")
        ? ByteCountText.human(UInt64(limit.value)) : String(limit.value)
      lines.append("  \(name.rawValue.padded(24))\(value)   source: \(limit.source)")
      if let note = limit.note { lines.append("    \(note)") }
    }
    if let note = profile.limitsNote { lines.append("  \(note)") }
    if !profile.notes.isEmpty {
      lines.append("notes:")
      lines += profile.notes.map { "  - \($0)" }
    }
    return lines.joined(separator: "\n")
  }
}
