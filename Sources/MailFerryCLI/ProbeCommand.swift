import Endpoints
import Foundation
import IMAPCodec

/// `mailferry probe URL`: what a server offers and whether we can log in.
struct ProbeCommand: Subcommand {
  static let spec = CommandSpec(
    name: "probe", summary: "Connect to a server and show what it offers.",
    discussion: """
      Connects (imap:// upgrades with STARTTLS, imaps:// is TLS from the start), shows the TLS
      protocol and certificate, the capabilities before and after login, the namespace and
      hierarchy separator, and whether the login worked.
      """,
    positionals: [.init(name: "URL", help: "imaps://user@host[:port] or imap://user@host[:port]")],
    options: CommonOptions.connection)

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let options = try IMAPSessionOptions(arguments.positionals[0], arguments: arguments, command: Self.spec.name)
    let credential = try options.credential(console: console)
    console.print("Server:        \(options.url.display)")
    let client = try options.connect(console: console)
    defer { client.logout() }
    console.print("Connected:     \(client.peer)")
    if let tls = client.tlsInfo {
      console.print(
        "TLS:           \(tls.protocolVersion), \(tls.cipher)\(client.account.security == .startTLS ? " (STARTTLS)" : "")"
      )
      console.print("Certificate:   \(tls.peerSubject)")
      console.print("Issuer:        \(tls.peerIssuer)")
      console.print("Verified:      \(tls.verified ? "yes" : "NO (\(tls.verificationNote ?? "--insecure"))")")
    } else {
      console.print("TLS:           none (plaintext)")
    }
    console.print("Greeting:      \(client.greeting)")
    console.print("Before login:  \(client.capabilitiesBeforeLogin.joined(separator: " "))")
    do {
      try client.login(credential)
    } catch let error as IMAPError {
      console.print("Login:         FAILED as \(client.account.user)")
      throw error
    }
    console.print("Login:         OK as \(client.account.user)")
    console.print("After login:   \(client.capabilitiesAfterLogin.joined(separator: " "))")
    let compressed = try client.startCompressionIfOffered()
    console.print(
      "Compression:   \(compressed ? "DEFLATE on" : client.has("COMPRESS=DEFLATE") ? "offered, off (--no-compress)" : "not offered")"
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
    return .success
  }
}
