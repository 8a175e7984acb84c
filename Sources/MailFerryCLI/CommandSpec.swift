/// What a subcommand accepts, used both to parse its arguments and to print its help.
struct CommandSpec: Sendable {
  struct Option: Sendable {
    /// Long name without dashes, e.g. `ca-file`.
    let name: String
    /// Name of the value in help (`FILE`), or nil for a flag.
    let valueName: String?
    let help: String
    /// May be given more than once (values accumulate).
    var repeatable = false
    /// The values it takes, when they are a fixed few (for shell completions).
    var choices: [String] = []
  }

  struct Positional: Sendable {
    let name: String
    let help: String
    var optional = false
    /// The last positional may be given any number of times (`[JOB…]`).
    var repeats = false
    /// The words it takes, when they are a fixed few (for shell completions).
    var choices: [String] = []
  }

  let name: String
  let summary: String
  let discussion: String
  let positionals: [Positional]
  let options: [Option]

  func option(named name: String) -> Option? { options.first { $0.name == name } }
}

/// Options every command that talks to a server takes.
enum CommonOptions {
  static let connection: [CommandSpec.Option] = [
    .init(name: "password-file", valueName: "FILE", help: "Read the password from the first line of FILE."),
    .init(name: "password-command", valueName: "CMD", help: "Run CMD (via /bin/sh) and use the first line it prints."),
    .init(
      name: "oauth-token-command", valueName: "CMD",
      help: "Run CMD for an OAuth2 access token (XOAUTH2/OAUTHBEARER) at every login; see docs/oauth2.md."),
    .init(
      name: "oauth-token-timeout", valueName: "SECONDS",
      help: "Stop a token command that has printed no token after SECONDS (default 60)."),
    .init(name: "ca-file", valueName: "FILE", help: "Trust the CA certificates in FILE instead of the system store."),
    .init(name: "insecure", valueName: nil, help: "Do not verify certificates (encrypted, but open to interception)."),
    .init(
      name: "login-method", valueName: "METHOD", help: "auto (default), plain (AUTHENTICATE PLAIN) or login (LOGIN).",
      choices: LoginMethods.all),
    .init(name: "allow-plaintext", valueName: nil, help: "Allow imap:// without STARTTLS and passwords sent in clear."),
    .init(
      name: "compress", valueName: nil,
      help: "Use COMPRESS=DEFLATE from the login on (default: only once the link proves slow)."),
    .init(name: "no-compress", valueName: nil, help: "Do not use COMPRESS=DEFLATE even when the server offers it."),
    .init(name: "timeout", valueName: "SECONDS", help: "Give up on a silent server after SECONDS (default 60)."),
    .init(name: "trace", valueName: "FILE", help: "Append a protocol trace to FILE (passwords and bodies redacted)."),
    .init(
      name: "profile", valueName: "NAME",
      help: "Use provider profile NAME's limits and folder names ('mailferry profiles')."),
  ]
}

/// The values of `--login-method` over all protocols (IMAP, POP3, SMTP), for completions.
enum LoginMethods {
  static let all = ["auto", "plain", "login", "user", "apop"]
}
