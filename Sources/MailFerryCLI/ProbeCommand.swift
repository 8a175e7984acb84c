import Foundation
import IMAPEndpoint
import MailCore
import POP3Endpoint
import SMTPEndpoint
import Transport

/// `mailferry probe URL`: what a server offers and whether we can log in.
struct ProbeCommand: Subcommand {
  static let spec = CommandSpec(
    name: "probe", summary: "Connect to a server and show what it offers.",
    discussion: """
      Connects (imap:// upgrades with STARTTLS, imaps:// is TLS from the start), shows the TLS
      protocol and certificate, the capabilities before and after login, the namespace and
      hierarchy separator, and whether the login worked. pop3s:// and pop3:// (STLS) show the
      same for a POP3 server, with its message count.
      """,
    positionals: [.init(name: "URL", help: "imaps://, imap://, pop3s:// or pop3:// user@host[:port]")],
    options: CommonOptions.connection)

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let scheme = try ServerURL(arguments.positionals[0]).scheme
    if scheme == .pop3 || scheme == .pop3s { return try probePOP3(arguments, console: console) }
    if scheme == .smtp || scheme == .smtps || scheme == .lmtp { return try probeSMTP(arguments, console: console) }
    let options = try IMAPSessionOptions(arguments.positionals[0], arguments: arguments, command: Self.spec.name)
    let credential = try options.credential(console: console)
    try arguments.checkAllApply(to: "probing an IMAP server")
    console.print("Server:        \(options.url.display)")
    if let profile = options.url.profile { console.print("Profile:       \(profile.id) (\(profile.name))") }
    let client = try options.connect(console: console)
    defer { client.logout() }
    console.print("Connected:     \(client.peer)")
    Self.showTLS(client.tlsInfo, upgrade: client.account.security == .startTLS ? "STARTTLS" : nil, console: console)
    console.print("Greeting:      \(client.greeting)")
    console.print("Before login:  \(client.capabilitiesBeforeLogin.joined(separator: " "))")
    do {
      try client.login(using: credential)
    } catch {
      console.print("Login:         FAILED as \(client.account.user)")
      throw error
    }
    console.print("Login:         OK as \(client.account.user)")
    console.print("After login:   \(client.capabilitiesAfterLogin.joined(separator: " "))")
    let compressed = try client.startCompressionIfOffered()
    console.print(
      "Compression:   "
        + (compressed
          ? "DEFLATE on (--compress)"
          : !client.has("COMPRESS=DEFLATE")
            ? "not offered"
            : client.account.compression == .never
              ? "offered, off (--no-compress)"
              : "offered; used once a transfer shows a link slower than \(IMAPClient.slowLink >> 20) MiB/s")
    )
    let identity = try client.identify()
    if !identity.isEmpty {
      console.print(
        "Server ID:     " + identity.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
    }
    if let namespace = try client.namespace() {
      for (kind, spaces) in [
        ("personal", namespace.personal), ("other users", namespace.otherUsers), ("shared", namespace.shared),
      ] {
        for space in spaces {
          console.print(
            "Namespace:     \(kind) \"\(space.prefix)\" separator \(space.separator.map { "\"\($0)\"" } ?? "none")")
        }
      }
    } else {
      let separator = try client.listFolders().first?.separator
      console.print("Separator:     \(separator.map { "\"\($0)\"" } ?? "none")")
    }
    for alert in client.alerts { console.print("Alert:         \(alert)") }
    if client.alertsNotKept > 0 { console.print("Alert:         (\(client.alertsNotKept) more alerts not shown)") }
    return .success
  }

  func probePOP3(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let options = try POP3SessionOptions(arguments.positionals[0], arguments: arguments, command: Self.spec.name)
    let credential = try options.credential(console: console)
    try arguments.checkAllApply(to: "probing a POP3 server")
    console.print("Server:        \(options.url.display)")
    if let profile = options.url.profile { console.print("Profile:       \(profile.id) (\(profile.name))") }
    let client = try options.connect(console: console)
    defer { client.logout() }
    console.print("Connected:     \(client.peer)")
    Self.showTLS(client.tlsInfo, upgrade: client.account.security == .startTLS ? "STLS" : nil, console: console)
    console.print("Greeting:      \(client.greeting)")
    console.print("Before login:  \(client.capabilitiesBeforeLogin.joined(separator: ", "))")
    do {
      try client.login(using: credential)
    } catch {
      console.print("Login:         FAILED as \(client.account.user)")
      throw error
    }
    console.print("Login:         OK as \(client.account.user) (\(client.loginMethodUsed ?? "?"))")
    console.print("After login:   \(client.capabilitiesAfterLogin.joined(separator: ", "))")
    let (count, size) = try client.stat()
    console.print("Maildrop:      \(count) message(s), \(ByteCountText.human(UInt64(size)))")
    console.print(
      "UIDL:          \(client.has("UIDL") ? "yes (incremental downloads)" : "not offered (matched by content)")")
    return .success
  }

  func probeSMTP(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let options = try SMTPSessionOptions(
      arguments.positionals[0], arguments: arguments, command: Self.spec.name, forDelivery: false)
    let credential = try options.credential(console: console)
    try arguments.checkAllApply(to: "probing an \(options.url.scheme == .lmtp ? "LMTP" : "SMTP") server")
    console.print("Server:        \(options.url.display)")
    if let profile = options.url.profile { console.print("Profile:       \(profile.id) (\(profile.name))") }
    let client = try options.connect(console: console)
    defer { client.quit() }
    console.print("Connected:     \(client.peer)")
    Self.showTLS(
      client.tlsInfo, upgrade: client.account.security == .implicitTLS || client.tlsInfo == nil ? nil : "STARTTLS",
      console: console)
    console.print("Greeting:      \(client.greeting?.text ?? "")")
    let hello = client.account.dialect == .lmtp ? "LHLO" : client.usedHELO ? "HELO (no EHLO)" : "EHLO"
    console.print(
      "\(hello.padding(toLength: 14, withPad: " ", startingAt: 0)) \(client.extensionsBeforeLogin.joined(separator: ", "))"
    )
    if let credential, let user = client.account.user {
      do {
        try client.login(using: credential)
      } catch {
        console.print("Login:         FAILED as \(user)")
        throw error
      }
      console.print("Login:         OK as \(user) (\(client.loginMethodUsed ?? "?"))")
    } else {
      console.print("Login:         none (no user in the URL)")
    }
    let limit = client.extensions.sizeLimit.map { ByteCountText.human(UInt64($0)) } ?? "none announced"
    console.print("Size limit:    \(limit)")
    return .success
  }

  static func showTLS(_ tls: TLSSessionInfo?, upgrade: String?, console: Console) {
    guard let tls else {
      console.print("TLS:           none (plaintext)")
      return
    }
    console.print("TLS:           \(tls.protocolVersion), \(tls.cipher)\(upgrade.map { " (\($0))" } ?? "")")
    console.print("Certificate:   \(tls.peerSubject)")
    console.print("Issuer:        \(tls.peerIssuer)")
    console.print("Verified:      \(tls.verified ? "yes" : "NO (\(tls.verificationNote ?? "--insecure"))")")
  }
}
