import Foundation
import MailCore

/// Every provider profile MailFerry can find: the ones installed with it, overridden by the
/// user's own in `$XDG_CONFIG_HOME/mailferry/profiles/` (`~/.config/mailferry/profiles/`),
/// a file there replacing the installed one of the same id.
///
/// Installed profiles are looked for, in order, in `$MAILFERRY_PROFILES` (a directory),
/// `<bin>/../share/mailferry/profiles` (what `make install` lays out), and the source
/// tree's `Profiles/` above a build directory (`.build/<config>/mailferry`).
public struct ProfileCatalog: Sendable {
  public private(set) var profiles: [String: Profile] = [:]
  /// Where each profile was read from.
  public private(set) var origins: [String: String] = [:]
  /// Files that could not be read, with the reason (reported by `mailferry profiles`).
  public private(set) var unreadable: [(path: String, reason: String)] = []

  public init() {}

  /// Reads every `*.json` file of `directories`, later ones replacing earlier ones by id.
  public init(directories: [String]) {
    for directory in directories { load(directory) }
  }

  /// The catalog of this process, read once.
  public static let shared = standard()

  /// The catalog of this process: installed profiles and the user's overrides.
  public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> ProfileCatalog {
    ProfileCatalog(directories: searchPath(environment: environment))
  }

  /// The directories read, in order, for the running executable.
  public static func searchPath(environment: [String: String]) -> [String] {
    var directories: [String] = []
    if let given = environment["MAILFERRY_PROFILES"], !given.isEmpty {
      directories.append(given)
    } else {
      let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
      let binDirectory = executable.deletingLastPathComponent()
      let installed = binDirectory.deletingLastPathComponent().appendingPathComponent("share/mailferry/profiles")
      if FileManager.default.fileExists(atPath: installed.path) {
        directories.append(installed.path)
      } else {
        // A build tree: .build/<triple>/<config>/mailferry or .build/<config>/mailferry.
        var candidate = binDirectory
        for _ in 0..<4 {
          candidate = candidate.deletingLastPathComponent()
          let profiles = candidate.appendingPathComponent("Profiles")
          if FileManager.default.fileExists(atPath: profiles.appendingPathComponent("gmail.json").path) {
            directories.append(profiles.path)
            break
          }
        }
      }
    }
    let configHome =
      environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
      ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
    directories.append(configHome + "/mailferry/profiles")
    return directories
  }

  private mutating func load(_ directory: String) {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
    for name in names.sorted() where name.hasSuffix(".json") {
      let path = directory + "/" + name
      do {
        let profile = try JSONDecoder().decode(Profile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let problems = profile.problems()
        guard problems.isEmpty else {
          unreadable.append((path, problems.joined(separator: "; ")))
          continue
        }
        profiles[profile.id] = profile
        origins[profile.id] = path
      } catch {
        unreadable.append((path, Self.describe(error)))
      }
    }
  }

  static func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
      return "missing '\((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))'"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      return "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
    case DecodingError.dataCorrupted(let context):
      return "not valid JSON (\(context.debugDescription))"
    default:
      return "\(error)"
    }
  }

  public subscript(id: String) -> Profile? { profiles[id.lowercased()] }

  /// The profile whose server of `kind` (`imap`, `pop3`, `smtp`) is `host`. A profile for
  /// a program on the user's own machine (Proton Mail Bridge on `localhost`) matches only
  /// on its own `port`: any other local server is not that program.
  public func profile(forHost host: String, port: Int?, kind: String) -> Profile? {
    let wanted = host.lowercased()
    return profiles.values.sorted { $0.id < $1.id }.first { profile in
      guard let server = profile.servers[kind], server.host.lowercased() == wanted else { return false }
      return !Self.loopbackHosts.contains(wanted) || port == server.port
    }
  }

  static let loopbackHosts: Set<String> = ["localhost", "127.0.0.1", "::1"]

  public var sorted: [Profile] { profiles.values.sorted { $0.id < $1.id } }
}

/// A profile named on the command line that no catalog holds.
public struct UnknownProfileError: UserFacingError, Equatable {
  public let name: String
  public let known: [String]

  public init(name: String, known: [String]) {
    self.name = name
    self.known = known
  }

  public var description: String { "no provider profile named '\(name)'" }
  public var hint: String? {
    "'mailferry profiles' lists them (" + known.prefix(8).joined(separator: ", ") + (known.count > 8 ? ", …" : "")
      + "); your own go in ~/.config/mailferry/profiles/"
  }
  public var scope: FailureScope { .job }
  public var isTemporary: Bool { false }
  public var kind: FailureKind { .configuration }
}
