import Foundation
import Transport

#if canImport(Glibc)
  import Glibc
#endif

/// A private Postfix for the tests, in front of a `DovecotServer`: its own main.cf, master.cf,
/// queue, data directory and log in a temporary directory, listening on loopback ports only.
/// The system `/etc/postfix` is never read and no system service is involved.
///
/// Every message it accepts goes by LMTP into the Dovecot, at once: `RCPT TO:<user@mailferry.test>`
/// (`address(of:)`) lands in the INBOX of Dovecot user `user`.
///
/// - `smtpPort` is plain SMTP offering STARTTLS; `smtpsPort` is implicit TLS. Both use the
///   Dovecot's certificates unless others are given.
/// - AUTH (PLAIN, LOGIN and whatever else the Dovecot offers) is offered only over TLS and checked
///   against the Dovecot's users.
/// - Clients on loopback may also send without AUTH (`mynetworks = 127.0.0.0/8`), which keeps
///   tests simple; so no test can see "authentication required" from this server.
/// - EHLO offers SIZE (`messageSizeLimit`), PIPELINING, 8BITMIME, SMTPUTF8 and CHUNKING. Dovecot's
///   LMTP has no SMTPUTF8: a message sent with SMTPUTF8 that needs it (UTF-8 in addresses or
///   headers) is accepted, then bounced on the way to Dovecot.
///
/// Needs root: the master binds its ports, then runs the daemons as the `postfix` user.
/// `PostfixServer.shared()` starts one per test process on first use and stops it at exit. When
/// Postfix cannot start, it throws the reason, so the tests that need it fail.
public final class PostfixServer: @unchecked Sendable {
  /// The mail domain relayed to Dovecot.
  public static let domain = "mailferry.test"
  /// RCPT TO this address is refused permanently: `550 5.1.1`.
  public static let permanentlyRefusedRecipient = "reject@mailferry.test"
  /// RCPT TO this address is refused temporarily: `450 4.2.1`.
  public static let temporarilyRefusedRecipient = "defer@mailferry.test"
  /// Postfix's own default for `message_size_limit`.
  public static let defaultMessageSizeLimit = 10_240_000

  /// The address that delivers into Dovecot user `user`.
  public static func address(of user: String) -> String { "\(user)@\(domain)" }

  public let directory: String
  public let configDirectory: String
  public let queueDirectory: String
  /// Postfix's log: connections, AUTH, every delivery with its LMTP reply.
  public let logFile: String
  public let dovecot: DovecotServer
  public let certificates: TestCertificates
  /// Plain SMTP with STARTTLS.
  public let smtpPort: Int
  /// SMTP over implicit TLS.
  public let smtpsPort: Int
  /// Larger messages are refused (SIZE in MAIL FROM, or 552 after the data). 0: no limit.
  public let messageSizeLimit: Int
  public let host = "127.0.0.1"
  public let hostname = "mx.mailferry.test"
  /// The CA that signed the server certificate.
  public var caFile: String { certificates.caCertificate }

  private let lock = NSLock()
  private var stopped = false
  private var masterPID: pid_t?

  private nonisolated(unsafe) static var sharedResult: Result<PostfixServer, FixtureError>?
  private static let sharedLock = NSLock()

  /// The process-wide server in front of the shared standard Dovecot, started on first use.
  public static func shared() throws -> PostfixServer {
    sharedLock.lock()
    defer { sharedLock.unlock() }
    if let existing = sharedResult { return try existing.get() }
    let result: Result<PostfixServer, FixtureError>
    do {
      result = .success(try PostfixServer(dovecot: DovecotServer.shared()))
    } catch let error as FixtureError {
      result = .failure(error)
    } catch {
      result = .failure(FixtureError("cannot start Postfix: \(error)"))
    }
    sharedResult = result
    // Registered after the shared Dovecot's handler, so it runs first: Postfix stops before
    // the server it delivers to.
    if case .success = result { atexit { PostfixServer.stopShared() } }
    return try result.get()
  }

  private static func stopShared() {
    if case .success(let server) = sharedResult { server.stop() }
  }

  /// Starts a new private server delivering into `dovecot`. Prefer `shared()`; a test that needs
  /// another size limit, or stops its server, starts its own.
  public init(
    dovecot: DovecotServer, messageSizeLimit: Int = defaultMessageSizeLimit, certificates: TestCertificates? = nil
  ) throws {
    guard Subprocess.exists("postconf") else {
      throw FixtureError("Postfix is not installed: apt-get install postfix")
    }
    guard geteuid() == 0 else {
      throw FixtureError("the private Postfix needs root: its master binds ports and runs daemons as postfix")
    }
    self.dovecot = dovecot
    self.messageSizeLimit = messageSizeLimit
    self.certificates = certificates ?? dovecot.certificates
    let ports = try FreePorts.allocate(2)
    (smtpPort, smtpsPort) = (ports[0], ports[1])
    directory = try Self.makeDirectory()
    configDirectory = "\(directory)/config"
    queueDirectory = "\(directory)/queue"
    logFile = "\(directory)/log/maillog"
    do {
      try makeDirectories()
      try mainConfiguration().write(toFile: "\(configDirectory)/main.cf", atomically: true, encoding: .utf8)
      try masterConfiguration().write(toFile: "\(configDirectory)/master.cf", atomically: true, encoding: .utf8)
      try """
      \(Self.permanentlyRefusedRecipient) 550 5.1.1 Mailbox unavailable (MailFerry test address)
      \(Self.temporarilyRefusedRecipient) 450 4.2.1 Mailbox busy, try again later (MailFerry test address)

      """.write(toFile: "\(configDirectory)/recipient_access", atomically: true, encoding: .utf8)
      // Postfix does not read a file modified in the current second (it might be half
      // written): it waits, up to 2 s per file. Backdate ours.
      for file in ["main.cf", "master.cf", "recipient_access"] {
        try FileManager.default.setAttributes(
          [.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: "\(configDirectory)/\(file)")
      }
      try start()
    } catch {
      stop()
      throw error
    }
  }

  deinit { stop() }

  // MARK: Queue

  /// Messages accepted and not yet delivered or bounced.
  public func queuedMessageCount() -> Int {
    let fileManager = FileManager.default
    return ["maildrop", "incoming", "active", "deferred", "hold"].reduce(0) { count, queue in
      let path = "\(queueDirectory)/\(queue)"
      let entries = (try? fileManager.subpathsOfDirectory(atPath: path)) ?? []
      return count
        + entries.filter { entry in
          var isDirectory: ObjCBool = false
          return fileManager.fileExists(atPath: "\(path)/\(entry)", isDirectory: &isDirectory) && !isDirectory.boolValue
        }.count
    }
  }

  /// Waits until every accepted message has left the queue: delivered into Dovecot, or bounced.
  /// Deliveries take milliseconds; what is still queued after `timeout` was deferred (see
  /// `logTail()`).
  public func waitForEmptyQueue(timeout: TimeInterval = 10) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      let queued = queuedMessageCount()
      if queued == 0 { return }
      if Date() > deadline {
        throw FixtureError("\(queued) message(s) still in Postfix's queue after \(timeout) s: \(logTail())")
      }
      Thread.sleep(forTimeInterval: 0.02)
    }
  }

  // MARK: Lifecycle

  private func start() throws {
    guard LoopbackProbe.accepts(port: dovecot.authPort) else {
      throw FixtureError("Dovecot's auth listener on port \(dovecot.authPort) does not answer: is the Dovecot stopped?")
    }
    let daemonDirectory = try Subprocess.run(["postconf", "-c", configDirectory, "-h", "daemon_directory"]).stdout
      .trimmingCharacters(in: .whitespacesAndNewlines)
    // The master itself, not `postfix start`: it stays in the foreground as our child (a
    // session leader whose process group holds every Postfix daemon), so stop() can signal and
    // reap it, and nothing runs postfix-script's checks against the system installation. As
    // root, -c needs no alternate_config_directories entry in /etc/postfix/main.cf.
    // env --default-signal: a spawned child inherits the spawning thread's signal mask, and
    // test threads block SIGTERM, SIGCHLD, SIGALRM...; the master and its daemons must not.
    // POSTLOG_SERVICE (as `postfix start` sets it) makes the master write its own start-up
    // errors, such as a port in use, to the log file before postlogd runs; without it they
    // are lost.
    let pid = try Subprocess.start(
      [
        "env", "--default-signal", "POSTLOG_SERVICE=\(queueDirectory)/public/postlog",
        "POSTLOG_HOSTNAME=\(hostname)", "\(daemonDirectory)/master", "-c", configDirectory,
      ], logFile: "\(directory)/log/startup.log")
    lock.lock()
    masterPID = pid
    lock.unlock()
    let deadline = Date().addingTimeInterval(20)
    while true {
      try checkMasterRunning()
      do {
        try checkAuthOverTLS()
        return
      } catch TransportError.connectionRefused where Date() < deadline {
        Thread.sleep(forTimeInterval: 0.02)
      } catch {
        // A master that failed to bind a port may only now be exiting: its own log says why.
        Thread.sleep(forTimeInterval: 0.2)
        try checkMasterRunning()
        if let error = error as? FixtureError { throw error }
        throw FixtureError("Postfix did not answer on port \(smtpsPort): \(error) \(logTail())")
      }
    }
  }

  private func checkMasterRunning() throws {
    lock.lock()
    defer { lock.unlock() }
    guard let pid = masterPID else { return }
    var status: Int32 = 0
    guard waitpid(pid, &status, WNOHANG) == pid else { return }
    masterPID = nil
    let startup = (try? String(contentsOfFile: "\(directory)/log/startup.log", encoding: .utf8)) ?? ""
    throw FixtureError("Postfix's master exited during start-up: \(startup)\(logTail())")
  }

  /// One session on the implicit-TLS port: the certificate, smtpd and the AUTH link to Dovecot
  /// all work, or start-up fails with the reason here rather than in some test.
  private func checkAuthOverTLS() throws {
    func reply(_ connection: Connection) throws -> [String] {
      var lines: [String] = []
      while true {
        let line = String(decoding: try connection.readLine(), as: UTF8.self)
        lines.append(line)
        if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { return lines }
      }
    }
    let connection = try Connection.open(
      host: host, port: smtpsPort, security: .implicitTLS(TLSOptions(caFile: caFile)),
      connectTimeout: .seconds(10), timeout: .seconds(10))
    defer { connection.close() }
    let banner = try reply(connection)
    guard banner.last?.hasPrefix("220") == true else {
      throw FixtureError("Postfix greeted with \(banner) instead of 220: \(logTail())")
    }
    try connection.send("EHLO probe.\(Self.domain)\r\n")
    try connection.flush()
    let ehlo = try reply(connection)
    try connection.send("QUIT\r\n")
    try connection.flush()
    let mechanisms = ehlo.first { $0.dropFirst(4).uppercased().hasPrefix("AUTH ") }?.uppercased() ?? ""
    guard mechanisms.contains(" PLAIN"), mechanisms.contains(" LOGIN") else {
      throw FixtureError("Postfix offers no AUTH PLAIN and LOGIN over TLS: \(ehlo) \(logTail())")
    }
  }

  /// Stops the server and, unless MAILFERRY_KEEP_TEST_FILES is set, removes its directory
  /// (never the certificates, which are the caller's).
  public func stop() {
    lock.lock()
    defer { lock.unlock() }
    guard !stopped else { return }
    stopped = true
    if let pid = masterPID {
      // The master passes SIGTERM on to its process group and exits, within 0.1 s here.
      Subprocess.terminate(pid, group: true)
    }
    ServerDirectory.remove(directory)
  }

  /// The end of the Postfix log, for failure messages.
  public func logTail(lines: Int = 20) -> String { ServerDirectory.tail(of: logFile, lines: lines) }

  // MARK: Configuration

  /// The queue as Postfix's own installer lays it out (postfix-files), made here so that
  /// `postfix set-permissions` and `post-install` never run against the system installation.
  private func makeDirectories() throws {
    guard let postfixUser = getpwnam("postfix")?.pointee, let postdrop = getgrnam("postdrop")?.pointee else {
      throw FixtureError("the postfix user or the postdrop group is missing: apt-get install postfix")
    }
    let (postfixUID, postdropGID) = (postfixUser.pw_uid, postdrop.gr_gid)
    func make(_ path: String, owner: uid_t = 0, group: gid_t = 0, mode: mode_t) throws {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      guard chown(path, owner, group) == 0, chmod(path, mode) == 0 else {
        throw FixtureError("cannot set up \(path) for Postfix: \(String(cString: strerror(errno)))")
      }
    }
    try make(configDirectory, mode: 0o755)
    try make("\(directory)/log", mode: 0o755)
    try make("\(directory)/data", owner: postfixUID, mode: 0o700)
    try make(queueDirectory, mode: 0o755)
    try make("\(queueDirectory)/pid", mode: 0o755)
    let privateQueues = [
      "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace",
    ]
    for queue in privateQueues {
      try make("\(queueDirectory)/\(queue)", owner: postfixUID, mode: 0o700)
    }
    try make("\(queueDirectory)/maildrop", owner: postfixUID, group: postdropGID, mode: 0o730)
    try make("\(queueDirectory)/public", owner: postfixUID, group: postdropGID, mode: 0o710)
  }

  private func mainConfiguration() -> String {
    let lmtp = "lmtp:inet:127.0.0.1:\(dovecot.lmtpPort)"
    return """
      # Private Postfix for MailFerry's tests (generated; never /etc/postfix).
      compatibility_level = 3.6
      queue_directory = \(queueDirectory)
      data_directory = \(directory)/data
      mail_owner = postfix
      setgid_group = postdrop
      maillog_file = \(logFile)
      maillog_file_prefixes = \(directory)/log
      myhostname = \(hostname)
      mydomain = \(Self.domain)
      myorigin = $mydomain
      inet_interfaces = 127.0.0.1
      inet_protocols = ipv4
      mynetworks = 127.0.0.0/8
      # No DNS for client names: the log says unknown[127.0.0.1].
      smtpd_peername_lookup = no
      biff = no

      # Nothing is delivered here: the test domain, and whatever an authenticated client relays,
      # goes by LMTP to Dovecot, which takes user@domain as its user `user`.
      mydestination =
      local_recipient_maps =
      alias_maps =
      alias_database =
      relay_domains = \(Self.domain)
      relay_transport = \(lmtp)
      default_transport = \(lmtp)
      lmtp_tls_security_level = none

      # Pass on what the client sent: keep the headers Postfix drops by default (Return-Path,
      # …) and add none a local client left out (Date, Message-ID), so a test can find the
      # original bytes below the trace headers.
      message_drop_headers =
      local_header_rewrite_clients =

      message_size_limit = \(messageSizeLimit)
      mailbox_size_limit = 0
      smtputf8_enable = yes

      smtpd_tls_security_level = may
      smtpd_tls_cert_file = \(certificates.serverCertificate)
      smtpd_tls_key_file = \(certificates.serverKey)
      smtpd_tls_loglevel = 1
      smtpd_tls_auth_only = yes
      smtpd_sasl_auth_enable = yes
      smtpd_sasl_type = dovecot
      smtpd_sasl_path = inet:127.0.0.1:\(dovecot.authPort)
      smtpd_sasl_security_options = noanonymous
      smtpd_sasl_tls_security_options = noanonymous

      smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
      smtpd_recipient_restrictions = check_recipient_access texthash:\(configDirectory)/recipient_access

      # A test may provoke many refusals in one session: no penalty delay, no disconnect.
      smtpd_error_sleep_time = 0
      smtpd_soft_error_limit = 1000
      smtpd_hard_error_limit = 1000
      in_flow_delay = 0

      # New mail is delivered at once anyway; deferred mail is retried within seconds and given up
      # after a minute, never the days of a real server.
      queue_run_delay = 1s
      minimal_backoff_time = 1s
      maximal_backoff_time = 2s
      maximal_queue_lifetime = 1m
      bounce_queue_lifetime = 1m

      """
  }

  /// The services a relay needs, none chrooted (no copies of system files in the queue).
  private func masterConfiguration() -> String {
    """
    # service type  private unpriv  chroot  wakeup  maxproc command
    127.0.0.1:\(smtpPort) inet n  -       n       -       -       smtpd
    127.0.0.1:\(smtpsPort) inet n -       n       -       -       smtpd
      -o syslog_name=postfix/smtps
      -o smtpd_tls_wrappermode=yes
    pickup    unix  n       -       n       60      1       pickup
    cleanup   unix  n       -       n       -       0       cleanup
    qmgr      unix  n       -       n       300     1       qmgr
    tlsmgr    unix  -       -       n       1000?   1       tlsmgr
    rewrite   unix  -       -       n       -       -       trivial-rewrite
    bounce    unix  -       -       n       -       0       bounce
    defer     unix  -       -       n       -       0       bounce
    trace     unix  -       -       n       -       0       bounce
    verify    unix  -       -       n       -       1       verify
    flush     unix  n       -       n       1000?   0       flush
    proxymap  unix  -       -       n       -       -       proxymap
    showq     unix  n       -       n       -       -       showq
    error     unix  -       -       n       -       -       error
    retry     unix  -       -       n       -       -       error
    discard   unix  -       -       n       -       -       discard
    lmtp      unix  -       -       n       -       -       lmtp
    smtp      unix  -       -       n       -       -       smtp
    anvil     unix  -       -       n       -       1       anvil
    scache    unix  -       -       n       -       1       scache
    postlog   unix-dgram n  -       n       -       1       postlogd

    """
  }

  private static func makeDirectory() throws -> String {
    let path = try ServerDirectory.make(for: "postfix")
    // main.cf lists (maillog_file_prefixes) split at white space.
    guard !path.contains(where: \.isWhitespace) else {
      try? FileManager.default.removeItem(atPath: path)
      throw FixtureError("Postfix cannot work in a directory with white space in its path: \(path)")
    }
    return path
  }

}
