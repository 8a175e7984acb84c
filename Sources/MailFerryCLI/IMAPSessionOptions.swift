import Endpoints
import Foundation
import Transport

/// Turns a URL and the common options into a logged-in IMAP session.
struct IMAPSessionOptions {
  let url: ServerURL
  private(set) var account: IMAPAccount
  let trace: ProtocolTrace?
  private let arguments: ParsedArguments
  /// "source" or "target" in a two-server command, nil otherwise.
  let side: String?

  init(
    _ urlText: String, arguments: ParsedArguments, command: String, side: String? = nil,
    sharedTrace: ProtocolTrace? = nil
  ) throws {
    self.side = side
    let option = side.map { "\($0)-" } ?? ""
    url = try ServerURL(urlText)
    guard url.scheme == .imap || url.scheme == .imaps else {
      throw ConfigurationError(
        what: "URL '\(urlText)'", problem: "is not an IMAP URL", fix: "use imaps://user@host (or imap:// for STARTTLS)")
    }
    guard let user = url.user, !user.isEmpty else {
      throw ConfigurationError(
        what: "URL '\(urlText)'", problem: "names no user", fix: "write it like \(url.scheme)://user@\(url.host)")
    }
    let timeout = try arguments.number("timeout", default: 60, command: command)
    let tls = TLSOptions(
      caFile: arguments.value("\(option)ca-file") ?? arguments.value("ca-file"), insecure: arguments.flag("insecure"))
    if let caFile = tls.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
      throw ConfigurationError(
        what: "CA file \(caFile)", problem: "cannot be read", fix: "give a PEM file of CA certificates")
    }
    account = IMAPAccount(
      host: url.host, port: url.port, user: user, security: url.scheme == .imaps ? .implicitTLS : .startTLS, tls: tls,
      allowPlaintext: arguments.flag("allow-plaintext"), compress: !arguments.flag("no-compress"),
      timeout: .milliseconds(Int(timeout * 1000)), connectTimeout: .milliseconds(Int(min(timeout, 30) * 1000)))
    if let method = arguments.value("login-method") {
      guard let parsed = IMAPAccount.LoginMethod(rawValue: method.lowercased()) else {
        throw UsageError(
          command: command, message: "option '--login-method' takes auto, plain or login, not '\(method)'")
      }
      account.loginMethod = parsed
    }
    trace = try sharedTrace ?? arguments.value("trace").map { try ProtocolTrace(path: $0) }
    self.arguments = arguments
  }

  /// The password or token, from the sources the options name.
  func credential(console: Console) throws -> IMAPCredential {
    let option = side.map { "\($0)-" } ?? ""
    if let command = arguments.value("\(option)oauth-token-command") {
      return .oauth2Token(try PasswordSource.fromCommand(command, purpose: "--\(option)oauth-token-command"))
    }
    return .password(
      try PasswordSource.resolve(
        arguments, environment: ProcessInfo.processInfo.environment, console: console, user: account.user,
        server: url.display, side: side))
  }

  /// Connects (STARTTLS as the scheme says) and warns about weakened security.
  func connect(console: Console) throws -> IMAPClient {
    if account.tls.insecure {
      console.warning("--insecure: the server's certificate is not checked; anyone on the path could read this session")
    }
    let client = try IMAPClient.connect(account, trace: trace, label: side ?? "imap")
    if client.tlsInfo == nil {
      console.warning("\(client.peer): the connection is not encrypted (--allow-plaintext)")
    }
    return client
  }

  /// Connects, logs in, turns on compression and the extensions MailFerry uses.
  func openSession(console: Console, credential given: IMAPCredential? = nil) throws -> IMAPClient {
    let credential = try given ?? credential(console: console)
    let client = try connect(console: console)
    do {
      try client.login(credential)
      try client.startCompressionIfOffered()
      try client.enable(["CONDSTORE", "UTF8=ACCEPT"])
      return client
    } catch {
      client.close()
      throw error
    }
  }
}
