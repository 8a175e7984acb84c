import Foundation
import ServerFixtures
import Testing

@testable import MailFerryCLI

/// `probe` and `folders` against the private Dovecot, through the command-line library and
/// once through the built binary.
@Suite struct IMAPCommandsTests {
  let server: DovecotServer
  let user: DovecotServer.User
  let passwordFile: String

  init() throws {
    server = try DovecotServer.shared()
    user = try server.createUser("cli")
    passwordFile = NSTemporaryDirectory() + "mailferry-password-\(user.name)"
    try Data((user.password + "\n").utf8).write(to: URL(fileURLWithPath: passwordFile))
    chmod(passwordFile, 0o600)
  }

  var imaps: String { "imaps://\(user.name)@\(server.host):\(server.imapsPort)" }
  var common: [String] { ["--ca-file", server.caFile, "--password-file", passwordFile] }

  @Test func probeShowsTLSCapabilitiesNamespaceAndLogin() {
    let run = CapturedRun(["probe", imaps] + common)
    #expect(run.status == .success, "\(run.err)")
    #expect(run.out.contains("TLS:           TLSv1."))
    #expect(run.out.contains("Certificate:   CN=localhost"))
    #expect(run.out.contains("Verified:      yes"))
    #expect(run.out.contains("Login:         OK as \(user.name)"))
    #expect(run.out.contains("Before login:  ") && run.out.contains("AUTH=PLAIN"))
    #expect(run.out.contains("After login:   ") && run.out.contains("CONDSTORE"))
    // By default compression waits for a transfer to show a slow link; --compress forces it.
    #expect(run.out.contains("Compression:   offered; used once a transfer shows a link slower than"), "\(run.out)")
    #expect(
      CapturedRun(["probe", imaps, "--compress"] + common).out.contains("Compression:   DEFLATE on (--compress)"))
    #expect(CapturedRun(["probe", imaps, "--compress", "--no-compress"] + common).status == .usage)
    #expect(run.out.contains("Namespace:     personal \"\" separator \"/\""))
    #expect(!run.out.contains(user.password) && !run.err.contains(user.password))
  }

  @Test func probeOverStartTLS() {
    let run = CapturedRun(["probe", "imap://\(user.name)@localhost:\(server.imapPort)"] + common)
    #expect(run.status == .success, "\(run.err)")
    #expect(run.out.contains("(STARTTLS)"))
  }

  @Test func wrongPasswordFailsWithAHint() throws {
    let wrong = passwordFile + "-wrong"
    try Data("nope\n".utf8).write(to: URL(fileURLWithPath: wrong))
    chmod(wrong, 0o600)
    let run = CapturedRun(["probe", imaps, "--ca-file", server.caFile, "--password-file", wrong])
    #expect(run.status == .noPermission)
    #expect(run.out.contains("Login:         FAILED"))
    #expect(run.err.contains("error: \(server.host):\(server.imapsPort): login as \(user.name) failed"))
    #expect(run.err.contains("hint: check the user name and password"))
  }

  @Test func untrustedCertificateFailsWithAHint() {
    let run = CapturedRun(["probe", imaps, "--password-file", passwordFile])
    #expect(run.status == .unavailable)
    #expect(run.err.contains("certificate not trusted"))
    #expect(run.err.contains("hint: pass --ca-file"))
  }

  @Test func insecureWarnsAndConnects() {
    let run = CapturedRun(["probe", imaps, "--insecure", "--password-file", passwordFile])
    #expect(run.status == .success, "\(run.err)")
    #expect(run.err.contains("warning: --insecure"))
    #expect(run.out.contains("Verified:      NO"))
  }

  @Test func refusedConnectionUnknownHostAndTimeout() throws {
    let port = try FreePorts.allocate(1)[0]
    let refused = CapturedRun(["probe", "imaps://u@127.0.0.1:\(port)"] + common)
    #expect(refused.status == .unavailable)
    #expect(refused.err.contains("error: 127.0.0.1:\(port): connection refused"))
    #expect(refused.err.contains("hint: "))

    let unknown = CapturedRun(["probe", "imaps://u@no-such-host.invalid"] + common)
    #expect(unknown.status == .unavailable)
    #expect(unknown.err.contains("no-such-host.invalid: host not found"))

    let listener = try SilentListener()
    let silent = CapturedRun(["probe", "imaps://u@127.0.0.1:\(listener.port)", "--timeout", "0.5"] + common)
    #expect(silent.status == .unavailable)
    #expect(silent.err.contains("timed out after 0.5 s"))
  }

  @Test func badCommandLinesAndURLs() {
    let withPassword = CapturedRun(["probe", "imaps://joe:secret@example.org"] + common)
    #expect(withPassword.status == .configuration)
    #expect(withPassword.err.contains("contains a password"))
    #expect(!withPassword.err.contains("secret"))
    #expect(CapturedRun(["probe", "ftp://joe@example.org"] + common).err.contains("unknown scheme 'ftp'"))
    #expect(CapturedRun(["probe", "imaps://example.org"] + common).err.contains("names no user"))
    #expect(CapturedRun(["probe"]).status == .usage)
    #expect(CapturedRun(["probe", imaps, "--timeout", "-3"]).status == .usage)
    let missingCA = CapturedRun(["probe", imaps, "--ca-file", "/nonexistent.pem", "--password-file", passwordFile])
    #expect(missingCA.err.contains("CA file /nonexistent.pem cannot be read"))
  }

  @Test func passwordSources() throws {
    let command = CapturedRun(
      ["probe", imaps, "--ca-file", server.caFile, "--password-command", "cat '\(passwordFile)'"])
    #expect(command.status == .success, "\(command.err)")
    let failing = CapturedRun(["probe", imaps, "--ca-file", server.caFile, "--password-command", "exit 3"])
    #expect(failing.status == .configuration)
    #expect(failing.err.contains("exited with status 3"))
    let missing = CapturedRun(["probe", imaps, "--ca-file", server.caFile])
    if ProcessInfo.processInfo.environment["MAILFERRY_PASSWORD"] == nil {
      #expect(missing.status == .configuration)
      #expect(missing.err.contains("hint: set MAILFERRY_PASSWORD"))
    }
    let open = passwordFile + "-open"
    try Data((user.password + "\n").utf8).write(to: URL(fileURLWithPath: open))
    chmod(open, 0o644)
    let warned = CapturedRun(["probe", imaps, "--ca-file", server.caFile, "--password-file", open])
    #expect(warned.status == .success)
    #expect(warned.err.contains("can be read by other users"))
  }

  @Test func foldersListsCountsSizesAndSpecialUse() throws {
    try server.doveadm(["mailbox", "create", "-u", user.name, "Projekte/Größe & Co"])
    let message = Array("From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n".utf8)
    for _ in 0..<3 { try server.deliver(message, to: user.name, folder: "Projekte/Größe & Co") }
    try server.deliver(message, to: user.name)
    let run = CapturedRun(["folders", imaps, "--bytes"] + common)
    #expect(run.status == .success, "\(run.err)")
    let lines = run.out.split(separator: "\n").map(String.init)
    let project = lines.first { $0.hasSuffix("Projekte/Größe & Co") }
    #expect(project?.split(separator: " ").first == "3")
    #expect(project?.contains(String(3 * message.count)) == true)
    #expect(lines.contains { $0.contains("\\Sent") && $0.hasSuffix("Sent") })
    #expect(lines.contains { $0.hasSuffix(" INBOX") && $0.split(separator: " ").first == "1" })
    #expect(lines.last?.contains("total in") == true)
    #expect(lines.last?.split(separator: " ").first == "4")
  }

  @Test func plaintextOnlyServerNeedsAllowPlaintext() throws {
    let plain = try DovecotServer.shared("plaintext-only")
    let plainUser = try plain.createUser("cli")
    let url = "imap://\(plainUser.name)@\(plain.host):\(plain.imapPort)"
    let file = passwordFile + "-plain"
    try Data(plainUser.password.utf8).write(to: URL(fileURLWithPath: file))
    chmod(file, 0o600)
    let refused = CapturedRun(["probe", url, "--password-file", file])
    #expect(refused.status == .unavailable)
    #expect(refused.err.contains("does not offer STARTTLS"))
    #expect(refused.err.contains("hint: use imaps://"))
    let allowed = CapturedRun(["probe", url, "--password-file", file, "--allow-plaintext"])
    #expect(allowed.status == .success, "\(allowed.err)")
    #expect(allowed.err.contains("warning: \(plain.host):\(plain.imapPort): the connection is not encrypted"))
    #expect(allowed.out.contains("TLS:           none (plaintext)"))
  }

  @Test func oauthTokenCommand() throws {
    let token = try server.oauthToken(for: user.name)
    let tokenFile = passwordFile + "-token"
    try Data(token.utf8).write(to: URL(fileURLWithPath: tokenFile))
    let run = CapturedRun(
      ["probe", imaps, "--ca-file", server.caFile, "--oauth-token-command", "cat '\(tokenFile)'"])
    #expect(run.status == .success, "\(run.err)")
    #expect(run.out.contains("Login:         OK"))
    let expired = try server.oauthToken(for: user.name, lifetime: -600)
    let refused = CapturedRun(["probe", imaps, "--ca-file", server.caFile, "--oauth-token-command", "echo \(expired)"])
    #expect(refused.status == .noPermission)
    #expect(refused.err.contains("login as \(user.name) failed"))
  }

  @Test func compressionCanBeTurnedOffAndLoginMethodChosen() {
    let run = CapturedRun(["probe", imaps, "--no-compress", "--login-method", "login"] + common)
    #expect(run.status == .success, "\(run.err)")
    #expect(run.out.contains("Compression:   offered, off (--no-compress)"))
    #expect(CapturedRun(["probe", imaps, "--login-method", "kerberos"] + common).status == .usage)
  }

  @Test func theBuiltBinaryRuns() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let result = try Subprocess.run(
      [binary, "folders", imaps, "--ca-file", server.caFile], environment: ["MAILFERRY_PASSWORD": user.password],
      check: false)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("INBOX"))
    let failing = try Subprocess.run(
      [binary, "folders", imaps], environment: ["MAILFERRY_PASSWORD": "x"], check: false)
    #expect(failing.status == 69, "untrusted certificate: the server cannot be used")
    #expect(failing.stderr.hasPrefix("error: "))
  }
}
