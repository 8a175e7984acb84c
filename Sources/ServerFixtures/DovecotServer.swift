import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A private Dovecot for the tests: its own configuration, base_dir, logs, certificates and
/// passwd-file in a temporary directory, listening on loopback ports only. The system
/// `/etc/dovecot` is never read.
///
/// `DovecotServer.shared()` starts one per test process on first use and stops it at exit.
/// When Dovecot cannot start, it throws the reason, so the tests that need it fail.
public final class DovecotServer: @unchecked Sendable {
  /// How the mailbox hierarchy looks, so one test can play two different providers.
  public struct Flavor: Sendable {
    public var separator: Character
    /// Folder name for each special use (`\Sent`, `\Drafts`, …).
    public var specialUse: [(name: String, attribute: String)]
    /// Whether Dovecot advertises SPECIAL-USE attributes at all.
    public var advertisesSpecialUse: Bool
    /// False for an old-fashioned server with no TLS at all: no STARTTLS, no IMAPS/POP3S.
    public var offersTLS = true
    /// OAuth2 logins (XOAUTH2, OAUTHBEARER) with tokens from `oauthToken(for:)`.
    public var offersOAuth = true
    /// Validate OAuth2 tokens by asking this introspection endpoint (an `OAuthTokenService`)
    /// instead of checking signed tokens locally; failed logins are then not slowed down
    /// by Dovecot's authentication penalty either, so refused-token tests stay fast.
    public var oauthIntrospectionURL: String?
    /// Larger messages are refused (quota_max_mail_size), as providers refuse them. A
    /// multiple of 1 MiB.
    public var maxMessageSize = 64 << 20
    /// Personal namespace prefix: `INBOX.` puts every folder under INBOX, as Courier and
    /// older Cyrus servers do.
    public var namespacePrefix = ""
    /// `/` as separator over Dovecot's Maildir++ layout, which refuses names with a `.` or
    /// starting with `~` (`NO [CANNOT] Character not allowed in mailbox name`), as servers
    /// that forbid characters do.
    public var refusesDotsInNames = false

    public static let standard = Flavor(
      separator: "/",
      specialUse: [
        ("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"), ("Junk", "\\Junk"),
        ("Archive", "\\Archive"),
      ], advertisesSpecialUse: true)

    /// Dots as separator, Exchange-style names and a 10 MiB message limit, like a different
    /// provider.
    public static let exchangeLike: Flavor = {
      var flavor = Flavor(
        separator: ".",
        specialUse: [
          ("Sent Items", "\\Sent"), ("Drafts", "\\Drafts"), ("Deleted Items", "\\Trash"),
          ("Junk Email", "\\Junk"), ("Archive", "\\Archive"),
        ], advertisesSpecialUse: true)
      flavor.maxMessageSize = 10 << 20
      return flavor
    }()

    /// Folders under `INBOX.` with dots, special folders known only by name (no
    /// SPECIAL-USE), like a Courier or old Cyrus server.
    public static let courierLike: Flavor = {
      var flavor = Flavor(
        separator: ".", specialUse: [("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash")],
        advertisesSpecialUse: false)
      flavor.namespacePrefix = "INBOX."
      return flavor
    }()

    /// A fresh account on a server that forbids `.` and a leading `~` in names and has
    /// no special folders yet.
    public static let strictNames: Flavor = {
      var flavor = Flavor(separator: "/", specialUse: [], advertisesSpecialUse: true)
      flavor.refusesDotsInNames = true
      return flavor
    }()

    /// A Gmail-shaped account: special folders under `[Gmail]/`, among them All Mail
    /// (`\All`), Starred (`\Flagged`) and Important (`\Important`). The tests put the same
    /// message into several folders, as Gmail's labels do.
    public static let gmailLike = Flavor(
      separator: "/",
      specialUse: [
        ("[Gmail]/All Mail", "\\All"), ("[Gmail]/Sent Mail", "\\Sent"), ("[Gmail]/Drafts", "\\Drafts"),
        ("[Gmail]/Trash", "\\Trash"), ("[Gmail]/Spam", "\\Junk"), ("[Gmail]/Starred", "\\Flagged"),
        ("[Gmail]/Important", "\\Important"),
      ], advertisesSpecialUse: true)

    /// The standard layout on a server without any TLS.
    public static let plaintextOnly: Flavor = {
      var flavor = Flavor.standard
      flavor.offersTLS = false
      flavor.offersOAuth = false
      return flavor
    }()

    public init(separator: Character, specialUse: [(name: String, attribute: String)], advertisesSpecialUse: Bool) {
      self.separator = separator
      self.specialUse = specialUse
      self.advertisesSpecialUse = advertisesSpecialUse
    }
  }

  public let directory: String
  public let configFile: String
  public let certificates: TestCertificates
  public let imapPort: Int
  public let imapsPort: Int
  public let pop3Port: Int
  public let pop3sPort: Int
  public let lmtpPort: Int
  /// Dovecot's authentication service for other servers: the private Postfix checks SMTP AUTH
  /// against the same users through it (`smtpd_sasl_type = dovecot`).
  public let authPort: Int
  public let flavor: Flavor
  public let host = "127.0.0.1"
  /// The CA that signed the server certificate: what `--ca-file` takes.
  public var caFile: String { certificates.caCertificate }

  private let mailUser: String
  private let lock = NSLock()
  private var userCounter = 0
  private var stopped = false
  private var masterPID: pid_t?

  private nonisolated(unsafe) static var instances: [String: Result<DovecotServer, FixtureError>] = [:]
  private static let instancesLock = NSLock()

  /// The process-wide server of `flavorName`, started on first use.
  public static func shared(_ flavorName: String = "standard") throws -> DovecotServer {
    instancesLock.lock()
    defer { instancesLock.unlock() }
    if let existing = instances[flavorName] { return try existing.get() }
    let flavor: Flavor =
      switch flavorName {
      case "exchange-like": .exchangeLike
      case "plaintext-only": .plaintextOnly
      case "courier-like": .courierLike
      case "strict-names": .strictNames
      case "gmail-like": .gmailLike
      default: .standard
      }
    let result: Result<DovecotServer, FixtureError>
    do {
      result = .success(try DovecotServer(flavor: flavor))
    } catch let error as FixtureError {
      result = .failure(error)
    } catch {
      result = .failure(FixtureError("cannot start Dovecot: \(error)"))
    }
    instances[flavorName] = result
    if instances.count == 1 { atexit { DovecotServer.stopAll() } }
    return try result.get()
  }

  private static func stopAll() {
    for case .success(let server) in instances.values { server.stop() }
  }

  /// Starts a new private server. Prefer `shared()`; a test that stops or breaks its server
  /// starts its own.
  public init(flavor: Flavor = .standard) throws {
    guard Subprocess.exists("dovecot"), Subprocess.exists("doveadm") else {
      throw FixtureError(
        "Dovecot is not installed: run scripts/install-test-deps (apt-get install dovecot-imapd dovecot-pop3d dovecot-lmtpd)"
      )
    }
    self.flavor = flavor
    directory = try Self.makeDirectory()
    configFile = "\(directory)/dovecot.conf"
    certificates = try TestCertificates.create(in: "\(directory)/tls")
    let ports = try FreePorts.allocate(6)
    (imapPort, imapsPort, pop3Port, pop3sPort, lmtpPort, authPort) =
      (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5])
    mailUser = try Self.mailAccount()
    for sub in ["run", "state", "home", "log"] {
      try FileManager.default.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
    }
    try Subprocess.run(["chown", "\(mailUser):\(mailUser)", "\(directory)/home"])
    try writeOAuthKey()
    try FileManager.default.createDirectory(atPath: "\(directory)/users", withIntermediateDirectories: true)
    try configuration().write(toFile: configFile, atomically: true, encoding: .utf8)
    try start()
  }

  deinit { stop() }

  // MARK: Users

  public struct User: Sendable {
    public let name: String
    public let password: String
  }

  /// Adds a user with a fresh name and a random password, ready to log in.
  public func createUser(_ prefix: String = "user") throws -> User {
    lock.lock()
    userCounter += 1
    let name = "\(prefix)\(userCounter)-\(UInt32.random(in: 0..<UInt32.max))"
    lock.unlock()
    let password = "pw-" + (0..<16).map { _ in String("abcdefghjkmnpqrstuvwxyz23456789".randomElement()!) }.joined()
    try addUser(name: name, password: password)
    return User(name: name, password: password)
  }

  /// Adds a user with the given name and password.
  public func addUser(name: String, password: String) throws {
    // One passwd-file per user (the path has %u in it): Dovecot opens it on lookup, so a
    // new user can log in at once instead of waiting for a shared file to be re-read.
    try Data("\(name):{PLAIN}\(password)::::::\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/users/\(name)"))
    // Make sure the user can log in before a test tries.
    let deadline = Date().addingTimeInterval(15)
    while Date() < deadline {
      let test = try Subprocess.run(["doveadm", "-c", configFile, "auth", "test", name, password], check: false)
      if test.status == 0 { return }
      Thread.sleep(forTimeInterval: 0.1)
    }
    throw FixtureError("Dovecot did not accept the new user \(name) within 15 s; see \(directory)/log/dovecot.log")
  }

  // MARK: OAuth2

  /// The HMAC key Dovecot validates tokens with (local JWT validation, no OAuth server).
  private var oauthKey: [UInt8] { Array("mailferry-test-oauth-key-\(imapPort)".utf8) }

  private func writeOAuthKey() throws {
    // Looked up as <azp>/<alg>/<kid>; tokens without azp and kid use "default".
    let keyDirectory = "\(directory)/oauth-keys/default/HS256"
    try FileManager.default.createDirectory(atPath: keyDirectory, withIntermediateDirectories: true)
    try Data(Data(oauthKey).base64EncodedString().utf8).write(to: URL(fileURLWithPath: "\(keyDirectory)/default"))
    let validation =
      if let url = flavor.oauthIntrospectionURL {
        // Token introspection (RFC 7662) as Dovecot 2.3 does it: POST token=… to the URL;
        // the answer's `active` must be true and its `username` the user logging in.
        """
        introspection_mode = post
        introspection_url = \(url)
        username_attribute = username
        active_attribute = active
        active_value = true
        timeout_msecs = 10000
        """
      } else {
        """
        introspection_mode = local
        local_validation_key_dict = fs:posix:prefix=\(directory)/oauth-keys/
        username_attribute = sub
        """
      }
    try "\(validation)\nusername_format = %u\n".write(
      toFile: "\(directory)/oauth2.conf", atomically: true, encoding: .utf8)
  }

  /// A signed access token (JWT, HS256) for `user`, valid for `lifetime` seconds from now
  /// (negative: already expired).
  public func oauthToken(for user: String, lifetime: Int = 3600) throws -> String {
    func base64URL(_ data: Data) -> String {
      data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
    }
    let now = Int(Date().timeIntervalSince1970)
    let header = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
    let claims = #"{"sub":"\#(user)","iat":\#(now - 60),"nbf":\#(now - 60),"exp":\#(now + lifetime)}"#
    let payload = base64URL(Data(claims.utf8))
    let hexKey = oauthKey.map { String(format: "%02x", $0) }.joined()
    let signature = try Subprocess.run(
      ["sh", "-c", "openssl dgst -sha256 -mac HMAC -macopt hexkey:\(hexKey) -binary | base64 -w0"],
      input: Data("\(header).\(payload)".utf8)
    ).stdout
    guard let signatureData = Data(base64Encoded: signature.trimmingCharacters(in: .whitespacesAndNewlines)) else {
      throw FixtureError("openssl produced no HMAC signature")
    }
    return "\(header).\(payload).\(base64URL(signatureData))"
  }

  /// Runs doveadm against this server, e.g. `["kick", user]` to drop a user's connections.
  @discardableResult
  public func doveadm(_ arguments: [String], input: Data? = nil) throws -> String {
    try Subprocess.run(["doveadm", "-c", configFile] + arguments, input: input).stdout
  }

  /// Signals the mail processes serving `user`: SIGKILL (the default) is a crash or a network
  /// cut, the clients see the connection drop without a goodbye; SIGTERM is a shutdown, the
  /// server says BYE first. Returns how many processes were signalled.
  @discardableResult
  public func dropConnections(of user: String, signal: Int32 = SIGKILL) throws -> Int {
    // `doveadm who -1` prints one line per connection: user, protocol, pid, addresses.
    let output = try doveadm(["who", "-1", user])
    let pids = output.split(separator: "\n").dropFirst().compactMap { line -> pid_t? in
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      return fields.count >= 3 ? pid_t(fields[2]) : nil
    }
    for pid in pids { kill(pid, signal) }
    return pids.count
  }

  /// Delivers a message straight into a user's folder (no IMAP involved), for test setup.
  public func deliver(_ message: [UInt8], to user: String, folder: String = "INBOX") throws {
    try doveadm(["save", "-u", user, "-m", folder], input: Data(message))
  }

  /// Where the user's Maildir lives on disk.
  public func maildir(of user: String) -> String { "\(directory)/home/\(user)/Maildir" }

  // MARK: Lifecycle

  private func start() throws {
    // In the foreground (-F) as our own child: nothing daemonizes, and stop() can wait for it.
    let pid = try Subprocess.start(["dovecot", "-F", "-c", configFile], logFile: "\(directory)/log/startup.log")
    lock.lock()
    masterPID = pid
    lock.unlock()
    // Ready when every listener accepts connections.
    let deadline = Date().addingTimeInterval(20)
    let ports =
      flavor.offersTLS ? [imapPort, imapsPort, pop3Port, pop3sPort, lmtpPort] : [imapPort, pop3Port, lmtpPort]
    for port in ports {
      while !LoopbackProbe.accepts(port: port) {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
          let startup = (try? String(contentsOfFile: "\(directory)/log/startup.log", encoding: .utf8)) ?? ""
          throw FixtureError("dovecot exited during start-up: \(startup) \(logTail())")
        }
        if Date() > deadline { throw FixtureError("Dovecot did not listen on port \(port) within 20 s: \(logTail())") }
        Thread.sleep(forTimeInterval: 0.05)
      }
    }
  }

  /// Stops the server and, unless MAILFERRY_KEEP_TEST_FILES is set, removes its directory.
  public func stop() {
    lock.lock()
    defer { lock.unlock() }
    guard !stopped else { return }
    stopped = true
    if let pid = masterPID {
      Subprocess.terminate(pid)
    }
    ServerDirectory.remove(directory)
  }

  /// The end of the server log, for failure messages.
  public func logTail(lines: Int = 20) -> String {
    ServerDirectory.tail(of: "\(directory)/log/dovecot.log", lines: lines)
  }

  private static func makeDirectory() throws -> String { try ServerDirectory.make(for: "dovecot") }

  /// The unprivileged account mail processes run as: `mailferrytest` (created if missing)
  /// when running as root, else the current user.
  private static func mailAccount() throws -> String {
    if geteuid() != 0 {
      return String(cString: getpwuid(geteuid()).pointee.pw_name)
    }
    if getpwnam("mailferrytest") == nil {
      let created = try Subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", "mailferrytest"],
        check: false)
      guard created.status == 0 || getpwnam("mailferrytest") != nil else {
        throw FixtureError(
          "cannot create the system user mailferrytest for Dovecot's mail processes: \(created.stderr)")
      }
    }
    return "mailferrytest"
  }

  /// Turns off the anvil's authentication penalty (a failed login from an address delays
  /// the next ones, up to 15 s), as Dovecot's documentation describes.
  private static let noAuthPenalty = """
    service anvil {
      unix_listener anvil-auth-penalty {
        mode = 0
      }
    }
    """

  private func configuration() -> String {
    let separator = String(flavor.separator)
    let layout = flavor.separator == "/" && !flavor.refusesDotsInNames ? ":LAYOUT=fs" : ""
    let specialUse = flavor.specialUse.map { entry in
      let attribute = flavor.advertisesSpecialUse ? "special_use = \(entry.attribute)" : ""
      return "  mailbox \"\(flavor.namespacePrefix)\(entry.name)\" {\n    \(attribute)\n    auto = subscribe\n  }"
    }.joined(separator: "\n")
    let nonRoot = geteuid() != 0
    let oauthPassdb =
      flavor.offersOAuth
      ? "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = \(directory)/oauth2.conf\n}" : ""
    let tlsSettings =
      flavor.offersTLS
      ? """
      ssl = yes
      ssl_cert = <\(certificates.serverCertificate)
      ssl_key = <\(certificates.serverKey)
      ssl_min_protocol = TLSv1.2
      \(FileManager.default.fileExists(atPath: "/usr/share/dovecot/dh.pem") ? "ssl_dh = </usr/share/dovecot/dh.pem" : "")
      """ : "ssl = no"
    let imapsListener =
      flavor.offersTLS
      ? "inet_listener imaps {\n    address = 127.0.0.1\n    port = \(imapsPort)\n    ssl = yes\n  }" : ""
    let pop3sListener =
      flavor.offersTLS
      ? "inet_listener pop3s {\n    address = 127.0.0.1\n    port = \(pop3sPort)\n    ssl = yes\n  }" : ""
    return """
      # Private Dovecot for MailFerry's tests (generated; never /etc/dovecot).
      base_dir = \(directory)/run
      state_dir = \(directory)/state
      log_path = \(directory)/log/dovecot.log
      instance_name = mailferry-test-\(getpid())-\(imapPort)
      protocols = imap pop3 lmtp
      listen = 127.0.0.1
      \(nonRoot ? "default_login_user = \(mailUser)\ndefault_internal_user = \(mailUser)" : "")
      \(tlsSettings)
      disable_plaintext_auth = no
      # APOP (POP3's challenge login) works because the passwd-file keeps plaintext passwords.
      auth_mechanisms = plain login apop\(flavor.offersOAuth ? " xoauth2 oauthbearer" : "")
      auth_verbose = yes
      auth_cache_size = 0
      # Answer failed logins at once: the wrong-password tests need no brute-force delay.
      auth_failure_delay = 0
      mail_location = maildir:~/Maildir\(layout)
      mail_uid = \(mailUser)
      mail_gid = \(mailUser)
      first_valid_uid = 1
      pop3_no_flag_updates = yes
      pop3_uidl_format = %08Xu%08Xv
      mail_max_userip_connections = 200
      # Mailbox attributes make CREATE (USE (\\Sent)) stick: Dovecot keeps a created
      # folder's special use there.
      mail_attribute_dict = file:%h/Maildir/dovecot-attributes
      \(oauthPassdb)
      passdb {
        driver = passwd-file
        args = scheme=PLAIN username_format=%u \(directory)/users/%u
      }
      userdb {
        driver = static
        args = uid=\(mailUser) gid=\(mailUser) home=\(directory)/home/%u
      }
      namespace inbox {
        inbox = yes
        separator = \(separator)
        prefix = \(flavor.namespacePrefix)
      \(specialUse)
      }
      # Parallel tests and benchmarks open many TLS connections at once: one login process
      # serves many clients instead of one process per client (limit 100).
      default_process_limit = 1000
      default_client_limit = 4000
      service imap-login {
        service_count = 0
        process_min_avail = 2
        client_limit = 1000
        inet_listener imap {
          address = 127.0.0.1
          port = \(imapPort)
        }
        \(imapsListener)
      }
      service pop3-login {
        service_count = 0
        client_limit = 1000
        inet_listener pop3 {
          address = 127.0.0.1
          port = \(pop3Port)
        }
        \(pop3sListener)
      }
      service lmtp {
        inet_listener lmtp {
          address = 127.0.0.1
          port = \(lmtpPort)
        }
      }
      \(flavor.oauthIntrospectionURL == nil ? "" : Self.noAuthPenalty)
      # For Postfix's SMTP AUTH. A listener name without a -login/-master/-userdb suffix is a
      # client socket, the kind Postfix needs.
      service auth {
        inet_listener sasl {
          address = 127.0.0.1
          port = \(authPort)
        }
      }
      # A size limit like providers have: APPEND of a larger message is refused.
      mail_plugins = $mail_plugins quota
      plugin {
        quota = count:User quota
        quota_vsizes = yes
        quota_max_mail_size = \(flavor.maxMessageSize / 1_048_576)M
      }
      protocol imap {
        mail_plugins = $mail_plugins imap_zlib imap_quota
        mail_max_userip_connections = 200
        imap_metadata = yes
      }
      protocol pop3 {
        mail_max_userip_connections = 200
      }
      protocol lmtp {
        postmaster_address = postmaster@localhost
        # RCPT TO:<user@mailferry.test> (from Postfix, or any LMTP client) is Dovecot user `user`;
        # a bare `user` still works. %n keeps the case: the passwd-file names are case-sensitive.
        auth_username_format = %n
      }

      """
  }
}
