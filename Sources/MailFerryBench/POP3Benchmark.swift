import Endpoints
import Foundation
import IMAPCodec
import MailCore
import TestSupport
import Transport

/// Downloads a maildrop of `count` messages over POP3S with MailFerry's client (pipelined
/// RETR, every message hashed), with mpop and with getmail (both writing a local Maildir,
/// as they do in use), on the same server in the same run. Prints figures.
@MainActor func runPOP3Benchmark(server: DovecotServer, corpus: SyntheticMail, count: Int, rounds: Int) throws {
  let user = try server.createUser("pop3bench")
  var bytes = 0
  do {
    let client = try IMAPClient.connect(
      IMAPAccount(
        host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile),
        compress: false))
    try client.login(.password(user.password))
    var batch: [AppendMessage] = []
    for number in 0..<count {
      let message = corpus.message(number: 9_000_000 + number)
      bytes += message.count
      batch.append(AppendMessage(bytes: message))
      if batch.count == 100 || number == count - 1 {
        try client.append(batch, to: MailboxName("INBOX"))
        batch = []
      }
    }
    client.logout()
  }
  print("")
  print(
    String(
      format: "download a %d-message maildrop (%.1f MB) over POP3S from the local Dovecot:", count, Double(bytes) / 1e6)
  )
  let account = POP3Account(
    host: server.host, port: server.pop3sPort, user: user.name, tls: TLSOptions(caFile: server.caFile))
  _ = try measure("mailferry POP3 (pipelined RETR + SHA-256)") {
    let client = try POP3Client.connect(account)
    defer { client.logout() }
    try client.login(.password(user.password))
    let listing = try client.uniqueIDs() ?? []
    var messages = 0
    var received = 0
    try client.retrieve(listing.map(\.number)) { _, message in
      _ = ContentHasher.hash(message)
      messages += 1
      received += message.count
    }
    return (messages, received)
  }
  if Subprocess.exists("mpop") {
    _ = try measure("peer: mpop to Maildir") { try mpopDownload(server: server, user: user, bytes: bytes) }
  }
  if Subprocess.exists("getmail") {
    _ = try measure("peer: getmail to Maildir") { try getmailDownload(server: server, user: user, bytes: bytes) }
  }
}

/// A fresh Maildir in a fresh directory for one peer run.
private func scratchMaildir(_ name: String) throws -> String {
  let directory = NSTemporaryDirectory() + "mailferry-bench-\(name)-\(getpid())-\(UUID().uuidString)"
  for sub in ["cur", "new", "tmp"] {
    try FileManager.default.createDirectory(atPath: "\(directory)/Maildir/\(sub)", withIntermediateDirectories: true)
  }
  return directory
}

private func maildirCount(_ directory: String) -> Int {
  ["new", "cur"].reduce(0) { total, sub in
    total + ((try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/Maildir/\(sub)"))?.count ?? 0)
  }
}

private func mpopDownload(
  server: DovecotServer, user: DovecotServer.User, bytes: Int
) throws -> (
  messages: Int, bytes: Int
)? {
  let directory = try scratchMaildir("mpop")
  defer { try? FileManager.default.removeItem(atPath: directory) }
  let config = """
    defaults
    tls on
    tls_starttls off
    tls_trust_file \(server.caFile)
    keep on
    pipelining on

    account bench
    host localhost
    port \(server.pop3sPort)
    user \(user.name)
    password \(user.password)
    auth plain
    delivery maildir \(directory)/Maildir
    uidls_file \(directory)/uidls

    """
  try config.write(toFile: directory + "/mpoprc", atomically: true, encoding: .utf8)
  chmod(directory + "/mpoprc", 0o600)
  let result = try Subprocess.run(["mpop", "-C", directory + "/mpoprc", "-q", "bench"], check: false)
  guard result.status == 0 else {
    print("  mpop failed: \(result.stderr.prefix(300))")
    return nil
  }
  return (maildirCount(directory), bytes)
}

private func getmailDownload(
  server: DovecotServer, user: DovecotServer.User, bytes: Int
) throws -> (
  messages: Int, bytes: Int
)? {
  let directory = try scratchMaildir("getmail")
  defer { try? FileManager.default.removeItem(atPath: directory) }
  let config = """
    [retriever]
    type = SimplePOP3SSLRetriever
    server = localhost
    port = \(server.pop3sPort)
    username = \(user.name)
    password = \(user.password)
    ca_certs = \(server.caFile)

    [destination]
    type = Maildir
    path = \(directory)/Maildir/
    user = nobody

    [options]
    read_all = true
    delete = false
    verbose = 0

    """
  try config.write(toFile: directory + "/getmailrc", atomically: true, encoding: .utf8)
  // getmail refuses to deliver as root; it switches to `user` for delivery, who must own
  // the Maildir.
  if geteuid() == 0 { _ = try Subprocess.run(["chown", "-R", "nobody", directory + "/Maildir"], check: false) }
  let result = try Subprocess.run(
    ["getmail", "--rcfile=\(directory)/getmailrc", "--getmaildir=\(directory)"], check: false)
  guard result.status == 0 else {
    print("  getmail failed: \(result.stderr.prefix(300))")
    return nil
  }
  return (maildirCount(directory), bytes)
}
