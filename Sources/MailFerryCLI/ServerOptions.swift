import Foundation
import MailCore
import Providers
import Transport

/// What every server URL on the command line shares, whatever its protocol: the URL and
/// user, TLS trust, timeout, trace and where the password comes from.
struct ServerOptions {
  let url: ServerURL
  /// The URL's user; empty where a login is optional (SMTP, LMTP) and none was given.
  let user: String
  let tls: TLSOptions
  let timeout: Double
  let trace: ProtocolTrace?
  /// "source" or "target" in a two-sided command, nil otherwise.
  let side: String?
  /// The other side is an archive or a local store: the one-server password options and
  /// `MAILFERRY_PASSWORD` apply too.
  let soleServer: Bool
  let arguments: ParsedArguments
  let command: String
  /// The provider profile that applies (see `ProfileChoice`).
  let profile: Profile?

  init(
    _ urlText: String, arguments: ParsedArguments, command: String, side: String?, soleServer: Bool = false,
    sharedTrace: ProtocolTrace?, accepting schemes: [ServerURL.Scheme], example: String, userRequired: Bool = true
  ) throws {
    self.side = side
    self.soleServer = soleServer
    self.arguments = arguments
    self.command = command
    let option = side.map { "\($0)-" } ?? ""
    url = try ServerURL(urlText)
    profile = try ProfileChoice.resolve(url, side: side, arguments: arguments)
    guard schemes.contains(url.scheme) else {
      throw ConfigurationError(
        what: "URL '\(urlText)'", problem: "cannot be used here (\(url.scheme.rawValue)://)", fix: "use \(example)")
    }
    let user = url.user ?? ""
    if user.isEmpty && userRequired {
      throw ConfigurationError(
        what: "URL '\(urlText)'", problem: "names no user", fix: "write it like \(url.scheme)://user@\(url.host)")
    }
    self.user = user
    timeout = try arguments.number("timeout", default: 60, command: command)
    tls = TLSOptions(
      caFile: arguments.value("\(option)ca-file") ?? arguments.value("ca-file"), insecure: arguments.flag("insecure"))
    if let caFile = tls.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
      throw ConfigurationError(
        what: "CA file \(caFile)", problem: "cannot be read", fix: "give a PEM file of CA certificates")
    }
    trace = try sharedTrace ?? arguments.value("trace").map { try ProtocolTrace(path: $0) }
  }

  var readTimeout: Duration { .milliseconds(Int(timeout * 1000)) }
  var connectTimeout: Duration { .milliseconds(Int(min(timeout, 30) * 1000)) }

  /// `--login-method`, or the side's own `--source-login-method` / `--target-login-method`.
  var loginMethod: String? {
    side.flatMap { arguments.value("\($0)-login-method") } ?? arguments.value("login-method")
  }

  /// Where each login's password or token comes from, as the options say: an OAuth2 token
  /// command is run for every login (`TokenCommand`); a password is read once, now, and
  /// reused.
  func credential(console: Console) throws -> CredentialSource {
    let option = side.map { "\($0)-" } ?? ""
    for prefix in soleServer ? [option, ""] : [option] {
      if let command = arguments.value("\(prefix)oauth-token-command") {
        let seconds = try arguments.number(
          "oauth-token-timeout", default: Double(TokenCommand.defaultTimeout.components.seconds), command: self.command)
        return .renewable(
          TokenCommand(
            command: command, option: "--\(prefix)oauth-token-command", timeout: .milliseconds(Int(seconds * 1000))))
      }
    }
    return .fixed(
      .password(
        try PasswordSource.resolve(
          arguments, environment: JobSecrets.environment(), console: console, user: user,
          server: url.display, side: side, soleServer: soleServer)))
  }

  func warnIfInsecure(_ console: Console) {
    if tls.insecure {
      console.warning("--insecure: the server's certificate is not checked; anyone on the path could read this session")
    }
  }
}
