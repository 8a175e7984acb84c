import Engine
import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import POP3Endpoint
import SMTPEndpoint
import ServerFixtures
import Transport

/// Downloads a maildrop of `count` messages over POP3S with MailFerry's client (pipelined
/// RETR, every message hashed) and with mpop (writing a local Maildir, as it does in use),
/// then delivers it by LMTP with MailFerry's engine and with getmail, on the same server in
/// the same run. Prints figures.
@MainActor func runPOP3Benchmark(server: DovecotServer, corpus: SyntheticMail, count: Int, rounds: Int) throws {
  let user = try server.createUser("pop3bench")
  var bytes = 0
  var deliveries = DeliveryVerifier()
  do {
    let client = try IMAPClient.connect(
      IMAPAccount(
        host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile),
        compress: false))
    try client.login(.password(user.password))
    var batch: [MessageToStore] = []
    for number in 0..<count {
      let message = corpus.message(number: 9_000_000 + number)
      bytes += message.count
      deliveries.add(original: message)
      batch.append(MessageToStore(bytes: message))
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
  print("")
  print("the same maildrop delivered by LMTP into another account on that Dovecot, one round each:")
  /// Times one delivery run into a fresh account and checks what arrived.
  func deliver(
    _ name: String, prefix: String,
    _ body: (DovecotServer.User) throws -> (messages: Int, bytes: Int)?
  ) throws -> Double? {
    let target = try server.createUser(prefix)
    let start = ContinuousClock.now
    guard let result = try body(target) else { return nil }
    var figures = RunFigures(
      messages: result.messages, bytes: result.bytes, seconds: seconds(ContinuousClock.now - start))
    figures.correctness = deliveries.verify(server: server, user: target.name, password: target.password)
    figures.print(name)
    return figures.rate
  }
  let mailferryRate = try deliver("mailferry migrate POP3 to LMTP", prefix: "lmtpmf") { target in
    try mailferryToLMTP(server: server, user: user, recipient: target.name, bytes: bytes)
  }
  if Subprocess.exists("getmail") {
    _ = try deliver("peer: getmail POP3 to LMTP", prefix: "lmtpgm") { target in
      try getmailToLMTP(server: server, user: user, recipient: target.name, bytes: bytes)
    }
  }
  if Subprocess.exists("fetchmail") {
    let fetchmailRate = try deliver("peer: fetchmail POP3 to LMTP", prefix: "lmtpfm") { target in
      try fetchmailToLMTP(server: server, user: user, recipient: target.name, bytes: bytes)
    }
    if let mailferryRate, let fetchmailRate {
      print(String(format: "\nmailferry POP3 to LMTP / fetchmail: %.1f (goal >= 10)", mailferryRate / fetchmailRate))
    }
  } else {
    print("peer: fetchmail not run (scripts/install-test-deps --bench installs it)")
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

/// getmail fetching the maildrop and delivering each message by LMTP into `recipient`.
/// (Its Maildir delivery forks a child per message and, on a fast machine, loses the
/// child's exit in a race and waits for its own timeout, so LMTP is the fair comparison.)
private func getmailToLMTP(
  server: DovecotServer, user: DovecotServer.User, recipient: String, bytes: Int
) throws
  -> (messages: Int, bytes: Int)?
{
  let directory = NSTemporaryDirectory() + "mailferry-bench-getmail-\(getpid())-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
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
    type = MDA_lmtp
    host = 127.0.0.1
    port = \(server.lmtpPort)
    override = \(recipient)

    [options]
    read_all = true
    delete = false
    verbose = 0

    """
  try config.write(toFile: directory + "/getmailrc", atomically: true, encoding: .utf8)
  let result = try Subprocess.run(
    ["getmail", "--rcfile=\(directory)/getmailrc", "--getmaildir=\(directory)"], check: false)
  guard result.status == 0 else {
    print("  getmail failed: \(result.stderr.prefix(300))")
    return nil
  }
  return (try deliveredCount(server: server, user: recipient), bytes)
}

/// Messages in a Dovecot account's INBOX, by doveadm.
func deliveredCount(server: DovecotServer, user: String) throws -> Int {
  let output = try server.doveadm(["mailbox", "status", "-u", user, "messages", "INBOX"])
  return Int(output.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
}

/// MailFerry's engine moving the maildrop into `recipient` by LMTP: one transaction and
/// one checkpoint commit per message.
@MainActor private func mailferryToLMTP(
  server: DovecotServer, user: DovecotServer.User, recipient: String, bytes: Int
) throws -> (messages: Int, bytes: Int)? {
  let state = NSTemporaryDirectory() + "mailferry-bench-lmtp-\(getpid())-\(UUID().uuidString).sqlite"
  defer { try? FileManager.default.removeItem(atPath: state) }
  let account = POP3Account(
    host: server.host, port: server.pop3sPort, user: user.name, tls: TLSOptions(caFile: server.caFile))
  let password = user.password
  let lmtp = SMTPAccount(
    dialect: .lmtp, host: server.host, port: server.lmtpPort, tls: TLSOptions(caFile: server.caFile))
  let migration = Migration(
    source: {
      let client = try POP3Client.connect(account)
      try client.login(.password(password))
      return POP3Source(client)
    },
    sink: {
      SMTPSink(
        try SMTPClient.connect(lmtp), recipients: [recipient], sender: .fixed("bench@example.org"), retryDelays: [])
    },
    sourceIdentity: "pop3", targetIdentity: recipient, statePath: state, options: MigrationOptions())
  let report = try migration.run()
  guard report.isComplete else {
    print("  migration incomplete: \(report.folders.compactMap(\.error))")
    return nil
  }
  return (report.copied, report.copiedBytes)
}
