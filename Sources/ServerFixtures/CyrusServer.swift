import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A private Cyrus IMAP 3 for the tests, the second IMAP server implementation beside
/// Dovecot: its own imapd.conf, cyrus.conf, mailbox database, spool, sasldb and
/// certificates in a temporary directory, listening on loopback ports only. The system's
/// `/etc/imapd.conf` and Cyrus service are never used.
///
/// Cyrus's master starts as root and runs everything as the user `cyrus` (created by the
/// Debian package), which owns the directory. Users log in with passwords from the private
/// sasldb; an admin creates their INBOX over IMAP (`CREATE user.NAME`).
///
/// `CyrusServer.shared()` starts one per test process on first use and stops it at exit.
public final class CyrusServer: @unchecked Sendable {
  /// How the hierarchy looks to clients.
  public struct Flavor: Sendable {
    /// `.` (netnews style, Cyrus's classic layout) or `/` (`unixhierarchysep: yes`).
    public var separator: Character

    /// Cyrus's classic layout: `.` as separator, every folder under `INBOX.`.
    public static let standard = Flavor(separator: ".")
    /// `unixhierarchysep: yes`: `/` as separator, folders under `INBOX/`, and a `.` is an
    /// ordinary character in names.
    public static let unixSeparator = Flavor(separator: "/")
  }

  public typealias User = DovecotServer.User

  public let directory: String
  public let configFile: String
  public let certificates: TestCertificates
  public let imapPort: Int
  public let imapsPort: Int
  public let flavor: Flavor
  public let host = "127.0.0.1"
  /// The CA that signed the server certificate: what `--ca-file` takes.
  public var caFile: String { certificates.caCertificate }
  /// Where a user's folders live: `INBOX.` (or `INBOX/`), the personal namespace prefix.
  public var personalPrefix: String { "INBOX" + String(flavor.separator) }

  static let serverName = "mailferry-cyrus"
  let binaries: CyrusBinaries
  let adminUser = "mailferryadmin"
  let adminPassword = "admin-" + String(UInt64.random(in: 0..<UInt64.max), radix: 36)
  private let lock = NSLock()
  private var userCounter = 0
  private var stopped = false
  private var masterPID: pid_t?

  private nonisolated(unsafe) static var instances: [String: Result<CyrusServer, FixtureError>] = [:]
  private static let instancesLock = NSLock()

  /// The process-wide server of `flavorName` (`standard` or `unix-separator`), started on
  /// first use.
  public static func shared(_ flavorName: String = "standard") throws -> CyrusServer {
    instancesLock.lock()
    defer { instancesLock.unlock() }
    if let existing = instances[flavorName] { return try existing.get() }
    let flavor: Flavor = flavorName == "unix-separator" ? .unixSeparator : .standard
    let result: Result<CyrusServer, FixtureError>
    do {
      result = .success(try CyrusServer(flavor: flavor))
    } catch let error as FixtureError {
      result = .failure(error)
    } catch {
      result = .failure(FixtureError("cannot start Cyrus: \(error)"))
    }
    instances[flavorName] = result
    if instances.count == 1 { atexit { CyrusServer.stopAll() } }
    return try result.get()
  }

  private static func stopAll() {
    for case .success(let server) in instances.values { server.stop() }
  }

  /// Starts a new private server. Prefer `shared()`.
  public init(flavor: Flavor = .standard) throws {
    binaries = try CyrusBinaries.find()
    let owner = try CyrusBinaries.serviceAccount()
    self.flavor = flavor
    directory = try Self.makeDirectory()
    configFile = "\(directory)/imapd.conf"
    certificates = try TestCertificates.create(in: "\(directory)/tls")
    let ports = try FreePorts.allocate(2)
    (imapPort, imapsPort) = (ports[0], ports[1])
    // config/socket: each imapd binds its IDLE socket there (idle.PID).
    for sub in ["config/socket", "spool", "sieve", "run", "log"] {
      try FileManager.default.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
    }
    try imapdConfiguration().write(toFile: configFile, atomically: true, encoding: .utf8)
    try cyrusConfiguration().write(toFile: "\(directory)/cyrus.conf", atomically: true, encoding: .utf8)
    try setPassword(adminPassword, for: adminUser)
    // Cyrus's processes run as `cyrus` and must own everything they read and write.
    try Subprocess.run(["chown", "-R", "\(owner.uid):\(owner.gid)", directory])
    try start()
  }

  deinit { stop() }

  // MARK: Users

  /// Adds a user with a fresh name, a random password and an empty INBOX, ready to log in.
  public func createUser(_ prefix: String = "user") throws -> User {
    lock.lock()
    userCounter += 1
    let name = "\(prefix)\(userCounter)-\(UInt32.random(in: 0..<UInt32.max))"
    lock.unlock()
    let password = "pw-" + (0..<16).map { _ in String("abcdefghjkmnpqrstuvwxyz23456789".randomElement()!) }.joined()
    try addUser(name: name, password: password)
    return User(name: name, password: password)
  }

  /// Adds a user with the given name and password and creates their INBOX.
  public func addUser(name: String, password: String) throws {
    try setPassword(password, for: name)
    var admin = try adminSession()
    defer { admin.logout() }
    try admin.command("CREATE \(IMAPAdminSession.quoted("user\(flavor.separator)\(name)"))")
    // The new password and mailbox are in place once the user can log in and see INBOX.
    var session = try IMAPAdminSession(host: host, port: imapPort, user: name, password: password)
    defer { session.logout() }
    try session.command("SELECT INBOX")
  }

  /// An IMAP session logged in as the server's admin, for setup a test needs (quotas, ACLs).
  func adminSession() throws -> IMAPAdminSession {
    try IMAPAdminSession(host: host, port: imapPort, user: adminUser, password: adminPassword)
  }

  /// Runs an admin command, e.g. `SETQUOTA "user.NAME" (STORAGE 100)`; returns the untagged
  /// answers.
  @discardableResult
  public func adminCommand(_ command: String) throws -> [String] {
    var admin = try adminSession()
    defer { admin.logout() }
    return try admin.command(command)
  }

  /// Limits the storage of `user`'s whole account (SETQUOTA on `user.NAME`).
  public func setStorageQuota(of user: String, kibibytes: Int) throws {
    try adminCommand("SETQUOTA \(IMAPAdminSession.quoted("user\(flavor.separator)\(user)")) (STORAGE \(kibibytes))")
  }

  /// Writes `password` for `user` to the private sasldb (one writer at a time).
  private func setPassword(_ password: String, for user: String) throws {
    lock.lock()
    defer { lock.unlock() }
    let database = "\(directory)/sasldb2"
    // The realm is the server name: Cyrus looks users up as NAME@servername.
    try Subprocess.run(
      [binaries.saslpasswd2, "-f", database, "-u", Self.serverName, "-p", "-c", user], input: Data(password.utf8))
    // saslpasswd2 runs as root; the cyrus user must still read the file.
    if let owner = try? CyrusBinaries.serviceAccount() { chown(database, owner.uid, owner.gid) }
  }

  // MARK: Lifecycle

  private func start() throws {
    // In the foreground as our own child (no -d); -D keeps its stderr for the start-up log.
    let pid = try Subprocess.start(
      [
        binaries.master, "-C", configFile, "-M", "\(directory)/cyrus.conf", "-p", "\(directory)/run/master.pid", "-D",
      ], logFile: "\(directory)/log/master.log")
    lock.lock()
    masterPID = pid
    lock.unlock()
    let deadline = Date().addingTimeInterval(20)
    for port in [imapPort, imapsPort] {
      while !LoopbackProbe.accepts(port: port) {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
          throw FixtureError("Cyrus's master exited during start-up: \(logTail())")
        }
        if Date() > deadline { throw FixtureError("Cyrus did not listen on port \(port) within 20 s: \(logTail())") }
        Thread.sleep(forTimeInterval: 0.05)
      }
    }
    // Listening is not serving: the admin must log in, or start-up failed.
    do {
      var admin = try adminSession()
      admin.logout()
    } catch {
      throw FixtureError("Cyrus listens but the admin cannot log in: \(error) \(logTail())")
    }
  }

  /// Stops the server and, unless MAILFERRY_KEEP_TEST_FILES is set, removes its directory.
  public func stop() {
    lock.lock()
    defer { lock.unlock() }
    guard !stopped else { return }
    stopped = true
    if let pid = masterPID {
      // The master stops its children and exits on SIGTERM.
      Subprocess.terminate(pid)
    }
    ServerDirectory.remove(directory)
  }

  /// The end of the master's output, for failure messages. Cyrus logs to syslog otherwise.
  public func logTail(lines: Int = 20) -> String {
    ServerDirectory.tail(of: "\(directory)/log/master.log", lines: lines)
  }

  private static func makeDirectory() throws -> String { try ServerDirectory.make(for: "cyrus") }
}
