import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Where Debian's Cyrus programs are. `imapd` comes from the package cyrus-imapd, which
/// conflicts with dovecot-imapd (both provide imap-server), so scripts/install-test-deps
/// unpacks it to `/opt/mailferry-test-deps/cyrus-imapd` instead of installing it.
struct CyrusBinaries {
  static let libexec = "/usr/lib/cyrus/bin"
  static let unpackedImapd = "/opt/mailferry-test-deps/cyrus-imapd/usr/lib/cyrus/bin/imapd"

  let master: String
  let imapd: String
  let ctlCyrusdb: String
  let saslpasswd2: String

  static func find() throws -> CyrusBinaries {
    let hint = "Cyrus IMAP is not installed: run scripts/install-test-deps"
    let master = "\(libexec)/master"
    let ctlCyrusdb = "\(libexec)/ctl_cyrusdb"
    let executable = FileManager.default.isExecutableFile(atPath:)
    guard executable(master), executable(ctlCyrusdb) else {
      throw FixtureError("\(hint) (no \(master): apt-get install cyrus-common)")
    }
    guard let imapd = ["\(libexec)/imapd", unpackedImapd].first(where: executable) else {
      throw FixtureError("\(hint) (no imapd in \(libexec) or \(unpackedImapd))")
    }
    guard let saslpasswd2 = ["/usr/sbin/saslpasswd2", "/usr/bin/saslpasswd2"].first(where: executable) else {
      throw FixtureError("\(hint) (no saslpasswd2: apt-get install sasl2-bin)")
    }
    return CyrusBinaries(master: master, imapd: imapd, ctlCyrusdb: ctlCyrusdb, saslpasswd2: saslpasswd2)
  }

  /// The account Cyrus's processes run as: `cyrus`, which the master switches to when
  /// started as root. Other users cannot start it.
  static func serviceAccount() throws -> (uid: uid_t, gid: gid_t) {
    guard let entry = getpwnam("cyrus") else {
      throw FixtureError("there is no user cyrus: run scripts/install-test-deps (apt-get install cyrus-common)")
    }
    guard geteuid() == 0 || geteuid() == entry.pointee.pw_uid else {
      throw FixtureError("Cyrus's master must start as root (it switches to the user cyrus) or as cyrus")
    }
    return (entry.pointee.pw_uid, entry.pointee.pw_gid)
  }
}
