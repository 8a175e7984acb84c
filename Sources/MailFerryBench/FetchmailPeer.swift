import Foundation
import ServerFixtures

/// fetchmail fetching the maildrop over POP3S (implicit TLS, the certificate checked) and
/// delivering every message by LMTP into `recipient` on the same Dovecot, keeping the
/// maildrop as it is.
func fetchmailToLMTP(
  server: DovecotServer, user: DovecotServer.User, recipient: String, bytes: Int
) throws -> (messages: Int, bytes: Int)? {
  let directory = try scratchDirectory("fetchmail")
  defer { try? FileManager.default.removeItem(atPath: directory) }
  let config = """
    set no bouncemail
    set no syslog
    poll localhost protocol pop3 port \(server.pop3sPort) timeout 60:
      user "\(user.name)" there with password "\(user.password)" is "\(recipient)" here
      ssl sslcertck sslcertfile "\(server.caFile)"
      keep fetchall no rewrite
      lmtp smtphost "127.0.0.1/\(server.lmtpPort)" smtpname "\(recipient)"

    """
  try config.write(toFile: directory + "/fetchmailrc", atomically: true, encoding: .utf8)
  chmod(directory + "/fetchmailrc", 0o600)
  var environment = ProcessInfo.processInfo.environment
  environment["FETCHMAILHOME"] = directory
  let result = try Subprocess.run(
    ["fetchmail", "--nodetach", "--silent", "-f", directory + "/fetchmailrc", "--pidfile", directory + "/pid"],
    environment: environment, check: false)
  // 0: mail fetched; 1: none waiting. Anything else is a failure.
  guard result.status == 0 else {
    print("  fetchmail failed (\(result.status)): \(result.stderr.prefix(300))")
    return nil
  }
  return (try deliveredCount(server: server, user: recipient), bytes)
}
