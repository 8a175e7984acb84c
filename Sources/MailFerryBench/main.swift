import Engine
import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import Mailstore
import ServerFixtures
import Transport

// mailferry-bench: measures MailFerry against a baseline on a private Dovecot it starts
// itself. Prints figures; asserts nothing. See docs/benchmarks.md.
//
//   mailferry-bench [--messages N] [--pop3-messages N] [--rounds R] [--only fetch,migrate,verify,backup,pop3,parser]

let arguments = CommandLine.arguments
func option(_ name: String, default value: Int) -> Int {
  guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let number = Int(arguments[index + 1])
  else { return value }
  return number
}
let messageCount = option("--messages", default: 10000)
let rounds = option("--rounds", default: 3)
/// The sections to run (`--only a,b`); all by default.
let sections: Set<String>? = arguments.firstIndex(of: "--only").flatMap { index in
  index + 1 < arguments.count ? Set(arguments[index + 1].split(separator: ",").map(String.init)) : nil
}
func runs(_ section: String) -> Bool { sections?.contains(section) ?? true }

print("mailferry-bench: \(messageCount) messages, best of \(rounds) rounds")
let server = try DovecotServer(flavor: .standard)
defer { server.stop() }
let user = try server.createUser("bench")
let account = IMAPAccount(
  host: server.host, port: server.imapsPort, user: user.name, security: .implicitTLS,
  tls: TLSOptions(caFile: server.caFile), compress: false)

// MARK: Data

let folders = ["INBOX", "Archive/2023", "Archive/2024", "Lists/swift-dev"]
let corpus = SyntheticMail(seed: 42)
let populateStart = ContinuousClock.now
var totalBytes = 0
do {
  let client = try IMAPClient.connect(account)
  try client.login(.password(user.password))
  for (index, folder) in folders.enumerated() {
    try client.create(MailboxName(folder), separator: "/")
    let share = messageCount / folders.count + (index < messageCount % folders.count ? 1 : 0)
    var batch: [MessageToStore] = []
    for number in 0..<share {
      let message = corpus.message(number: index * 1_000_000 + number)
      totalBytes += message.count
      batch.append(MessageToStore(bytes: message, flags: number % 3 == 0 ? [] : ["\\Seen"]))
      if batch.count == 100 || number == share - 1 {
        try client.append(batch, to: MailboxName(folder))
        batch = []
      }
    }
  }
  client.logout()
}
let populateSeconds = seconds(ContinuousClock.now - populateStart)
print(
  String(
    format: "populated %d messages, %.1f MB, in %.1f s (MULTIAPPEND of 100: %.0f msg/s)", messageCount,
    Double(totalBytes) / 1e6, populateSeconds, Double(messageCount) / populateSeconds))

// MARK: Contestants

/// MailFerry's session: pipelined UID FETCH BODY.PEEK[] batches, every body hashed as the
/// engine does (SHA-256 of CRLF-normalised bytes).
@MainActor func mailferryFetch(compress: Bool, hashing: Bool = true) throws -> (messages: Int, bytes: Int) {
  var account = account
  account.compress = compress
  let client = try IMAPClient.connect(account)
  defer { client.logout() }
  try client.login(.password(user.password))
  try client.startCompressionIfOffered()
  final class Tally {
    var messages = 0
    var bytes = 0
    var hasher: ContentHasher? = nil
  }
  let tally = Tally()
  for folder in folders {
    let selected = try client.select(MailboxName(folder), readOnly: true)
    guard selected.exists > 0 else { continue }
    let uids = try client.uidSearch(.all)
    try client.fetchBodies(
      uids,
      consumer: BodyConsumer(
        begin: { _ in if hashing { tally.hasher = ContentHasher() } },
        bytes: { chunk in
          tally.bytes += chunk.count
          if hashing { tally.hasher!.update(chunk) }
        },
        end: {
          if hashing { _ = tally.hasher.take()!.finalize() }
          tally.messages += 1
        }))
  }
  return (tally.messages, tally.bytes)
}

/// The baseline: a minimal client on the same transport that sends one
/// `UID FETCH 1:* BODY.PEEK[]` per folder and skips each literal, hashing nothing.
@MainActor func rawFetch() throws -> (messages: Int, bytes: Int) {
  let connection = try Connection.open(
    host: server.host, port: server.imapsPort, security: .implicitTLS(TLSOptions(caFile: server.caFile)))
  defer { connection.close() }
  _ = try connection.readLine()
  func command(_ text: String, tag: String, onLine: ([UInt8]) throws -> Void = { _ in }) throws {
    try connection.send("\(tag) \(text)\r\n")
    try connection.flush()
    while true {
      let line = try connection.readLine(traced: false)
      if line.starts(with: Array("\(tag) ".utf8)) { return }
      try onLine(line)
    }
  }
  try command("LOGIN \(user.name) \(user.password)", tag: "l")
  var messages = 0
  var bytes = 0
  for (index, folder) in folders.enumerated() {
    try command("EXAMINE \"\(folder)\"", tag: "s\(index)")
    try command("UID FETCH 1:* BODY.PEEK[]", tag: "f\(index)") { line in
      // "* n FETCH (UID u BODY[] {size}": skip the literal, then the rest of the response.
      guard line.last == UInt8(ascii: "}"), let open = line.lastIndex(of: UInt8(ascii: "{")),
        let size = Int(String(decoding: line[(open + 1)..<(line.count - 1)], as: UTF8.self))
      else { return }
      try connection.readBytes(count: size) { chunk in bytes += chunk.count }
      messages += 1
    }
  }
  try command("LOGOUT", tag: "z")
  return (messages, bytes)
}

/// isync's mbsync, copying the account into a local Maildir (it writes files; we do not).
@MainActor func mbsyncFetch() throws -> (messages: Int, bytes: Int)? {
  guard let maildir = try mbsyncMaildir(server: server, account: account, password: user.password) else { return nil }
  try? FileManager.default.removeItem(atPath: maildir.directory)
  return (maildir.files, totalBytes)
}

// MARK: Measurement

func seconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

@MainActor func measure(_ name: String, _ body: () throws -> (messages: Int, bytes: Int)?) rethrows -> Double? {
  var best = Double.infinity
  var result: (messages: Int, bytes: Int)?
  for _ in 0..<rounds {
    let start = ContinuousClock.now
    guard let outcome = try body() else { return nil }
    result = outcome
    best = min(best, seconds(ContinuousClock.now - start))
  }
  guard let result else { return nil }
  let label = name.padding(toLength: 46, withPad: " ", startingAt: 0)
  let line =
    label
    + String(
      format: "%8.0f msg/s  %8.1f MB/s  %6.2f s  (%d messages)", Double(result.messages) / best,
      Double(result.bytes) / 1e6 / best, best, result.messages)
  print(line)
  return Double(result.messages) / best
}

if runs("fetch") {
  print("")
  print("fetch every message of the account over IMAPS from the local Dovecot:")
  let raw = try measure("baseline: raw UID FETCH 1:*") { try rawFetch() }
  let session = try measure("mailferry fetch (session only)") { try mailferryFetch(compress: false, hashing: false) }
  let plain = try measure("mailferry fetch + SHA-256 of each message") { try mailferryFetch(compress: false) }
  let deflate = try measure("mailferry fetch + COMPRESS=DEFLATE") { try mailferryFetch(compress: true) }
  if Subprocess.exists("mbsync") {
    _ = try measure("peer: mbsync (isync) to Maildir") { try mbsyncFetch() }
  } else {
    print(
      "peer: mbsync (isync)".padding(toLength: 46, withPad: " ", startingAt: 0)
        + "not installed (apt-get install isync)"
    )
  }
  if let raw, let session, let plain {
    print(String(format: "\nmailferry session / baseline: %.0f%%", session / raw * 100))
    print(String(format: "mailferry with hashing / baseline: %.0f%%", plain / raw * 100))
  }
  if let raw, let deflate {
    print(String(format: "mailferry with DEFLATE / baseline: %.0f%%", deflate / raw * 100))
  }
}

// MARK: Migration

/// A whole-account migration with the engine (hashing, checkpoint, MULTIAPPEND batches) to a
/// second Dovecot laid out like another provider.
let targetServer = try DovecotServer(flavor: .exchangeLike)
defer { targetServer.stop() }

/// A migration job to a fresh target account; `run` may be called again for a rerun.
@MainActor struct MailFerryJob {
  let migration: Migration
  let state: String

  init(connections: Int, verify: MigrationOptions.VerifyMode = .automatic) throws {
    let targetUser = try targetServer.createUser("mf")
    state = NSTemporaryDirectory() + "mailferry-bench-state-\(getpid())-\(targetUser.name).sqlite"
    var options = MigrationOptions()
    options.connections = connections
    options.verify = verify
    let sourceAccount = account
    let target = IMAPAccount(
      host: targetServer.host, port: targetServer.imapsPort, user: targetUser.name, security: .implicitTLS,
      tls: TLSOptions(caFile: targetServer.caFile), compress: false)
    let sourcePassword = user.password
    migration = Migration(
      source: {
        let client = try IMAPClient.connect(sourceAccount)
        try client.login(.password(sourcePassword))
        return IMAPSource(client)
      },
      sink: {
        let client = try IMAPClient.connect(target)
        try client.login(.password(targetUser.password))
        return IMAPSink(client)
      }, sourceIdentity: "source", targetIdentity: targetUser.name, statePath: state, options: options)
  }

  func run() throws -> (messages: Int, bytes: Int)? {
    let report = try migration.run()
    guard report.isComplete else {
      print("  migration incomplete: \(report.folders.compactMap(\.error))")
      return nil
    }
    return (report.copied, report.copiedBytes)
  }

  func remove() { try? FileManager.default.removeItem(atPath: state) }
}

/// mbsync copying the same account IMAP to IMAP (its own state, no hashing).
/// Seconds per round ("first run", "rerun, nothing changed") go to `elapsed`.
@MainActor func migrateWithMbsync(elapsed: inout [String: Double]) throws -> (messages: Int, bytes: Int)? {
  guard Subprocess.exists("mbsync") else { return nil }
  let targetUser = try targetServer.createUser("mb")
  let directory = NSTemporaryDirectory() + "mailferry-bench-mbsync-imap-\(getpid())-\(targetUser.name)"
  try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: directory) }
  let config = """
    IMAPAccount source
    Host localhost
    Port \(server.imapsPort)
    User \(user.name)
    Pass \(user.password)
    SSLType IMAPS
    CertificateFile \(server.caFile)
    PipelineDepth 50

    IMAPStore source
    Account source

    IMAPAccount target
    Host localhost
    Port \(targetServer.imapsPort)
    User \(targetUser.name)
    Pass \(targetUser.password)
    SSLType IMAPS
    CertificateFile \(targetServer.caFile)
    PipelineDepth 50

    IMAPStore target
    Account target

    Channel move
    Far :source:
    Near :target:
    Patterns \(folders.map { "\"\($0)\"" }.joined(separator: " "))
    Create Near
    Sync Pull
    SyncState \(directory)/

    """
  try config.write(toFile: directory + "/mbsyncrc", atomically: true, encoding: .utf8)
  for round in ["first run", "rerun, nothing changed"] {
    let start = ContinuousClock.now
    let result = try Subprocess.run(["mbsync", "-q", "-c", directory + "/mbsyncrc", "move"], check: false)
    guard result.status == 0 else {
      print("  mbsync failed: \(result.stderr.prefix(300))")
      return nil
    }
    elapsed[round] = seconds(ContinuousClock.now - start)
  }
  return (messageCount, totalBytes)
}

/// imapsync, the most used peer (a Perl script kept outside the product, in
/// `../shared/peers` or at `$MAILFERRY_IMAPSYNC`), over TLS on both sides as users run it,
/// into a fresh target account, under GNU time for its peak memory. Seconds per round go to
/// `elapsed`, peak resident kilobytes to `peakKB`.
@MainActor func migrateWithImapsync(
  elapsed: inout [String: Double], peakKB: inout Int?
) throws -> (
  messages: Int, bytes: Int
)? {
  let script =
    ProcessInfo.processInfo.environment["MAILFERRY_IMAPSYNC"]
    ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent()
    .appendingPathComponent("shared/peers/imapsync").path
  guard FileManager.default.fileExists(atPath: script), Subprocess.exists("perl") else { return nil }
  let targetUser = try targetServer.createUser("is")
  let directory = NSTemporaryDirectory() + "mailferry-bench-imapsync-\(getpid())-\(targetUser.name)"
  try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: directory) }
  for (name, password) in [("source", user.password), ("target", targetUser.password)] {
    try password.write(toFile: "\(directory)/\(name).pw", atomically: true, encoding: .utf8)
  }
  let timer =
    FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? ["/usr/bin/time", "-f", "peak-kb %M"] : []
  for round in ["first run", "rerun, nothing changed"] {
    let start = ContinuousClock.now
    let result = try Subprocess.run(
      timer + [
        "perl", script, "--host1", "localhost", "--port1", String(server.imapsPort), "--user1", user.name,
        "--passfile1", "\(directory)/source.pw", "--ssl1", "--host2", "localhost", "--port2",
        String(targetServer.imapsPort), "--user2", targetUser.name, "--passfile2", "\(directory)/target.pw", "--ssl2",
        "--nolog", "--noreleasecheck", "--noid", "--tmpdir", directory,
      ], check: false)
    guard result.status == 0 else {
      print("  imapsync failed (\(result.status)): \(result.stderr.suffix(300))")
      return nil
    }
    elapsed[round] = seconds(ContinuousClock.now - start)
    if round == "first run", let line = result.stderr.split(separator: "\n").last(where: { $0.hasPrefix("peak-kb ") }) {
      peakKB = Int(line.dropFirst("peak-kb ".count))
    }
  }
  return (messageCount, totalBytes)
}

/// `mailferry migrate` run as its binary, next to this one, into a fresh target account.
@MainActor func migrateWithTheCommandLine(_ extra: [String]) throws -> (messages: Int, bytes: Int)? {
  let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("mailferry").path
  guard FileManager.default.isExecutableFile(atPath: binary) else {
    print("  \(binary) is missing (make bench builds it)")
    return nil
  }
  let targetUser = try targetServer.createUser("cli")
  let directory = NSTemporaryDirectory() + "mailferry-bench-cli-\(getpid())-\(targetUser.name)"
  try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: directory) }
  for (name, password) in [("source", user.password), ("target", targetUser.password)] {
    try password.write(toFile: "\(directory)/\(name).pw", atomically: true, encoding: .utf8)
    chmod("\(directory)/\(name).pw", 0o600)
  }
  let timer =
    FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? ["/usr/bin/time", "-f", "peak-kb %M"] : []
  let result = try Subprocess.run(
    timer + [
      binary, "migrate", "imaps://\(user.name)@localhost:\(server.imapsPort)",
      "imaps://\(targetUser.name)@localhost:\(targetServer.imapsPort)", "--source-password-file",
      "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw", "--source-ca-file",
      server.caFile, "--target-ca-file", targetServer.caFile, "--state", "\(directory)/state.sqlite", "--quiet",
    ] + extra, check: false)
  guard result.status == 0 else {
    print("  mailferry migrate failed (\(result.status)): \(result.stderr.prefix(300))")
    return nil
  }
  if let line = result.stderr.split(separator: "\n").last(where: { $0.hasPrefix("peak-kb ") }) {
    peakOfLastRunKB = Int(line.dropFirst("peak-kb ".count))
  }
  return (messageCount, totalBytes)
}

/// The peak resident memory of the last run of a separate process, when it was measured;
/// `measureOnce` prints it with the row and clears it.
var peakOfLastRunKB: Int?

var reruns: [(name: String, seconds: Double)] = []
if runs("verify") {
  print("")
  print("what reading stored copies back costs: migrate (2 connections) and back up (gzip 6), one round each:")
  for verify: MigrationOptions.VerifyMode in [.off, .automatic, .at(.content)] {
    let job = try MailFerryJob(connections: 2, verify: verify)
    defer { job.remove() }
    _ = try measureOnce("mailferry migrate, read back: \(verify)") { try job.run() }
  }
  for verify: MigrationOptions.VerifyMode in [.off, .automatic, .at(.header), .at(.content)] {
    try backupOnce(server: server, account: account, password: user.password, level: 6, verify: verify)
  }
}
if runs("migrate") {
  print("")
  print("migrate the whole account to a second local Dovecot (IMAPS to IMAPS), one round each:")
  for connections in [2, 4] {
    let job = try MailFerryJob(connections: connections)
    defer { job.remove() }
    _ = try measureOnce("mailferry migrate, \(connections) connections") { try job.run() }
    if connections == 2 {
      let start = ContinuousClock.now
      if try job.run() != nil { reruns.append(("mailferry migrate", seconds(ContinuousClock.now - start))) }
    }
  }
  // The built command line as users run it: its defaults (compression decided by the
  // link), and with compression forced on and off.
  for (label, extra) in [
    ("mailferry migrate (CLI, defaults)", [String]()), ("mailferry migrate (CLI, --compress)", ["--compress"]),
    ("mailferry migrate (CLI, --no-compress)", ["--no-compress"]),
  ] {
    _ = try measureOnce(label) { try migrateWithTheCommandLine(extra) }
  }
  if Subprocess.exists("mbsync") {
    var mbsyncSeconds: [String: Double] = [:]
    if let result = try migrateWithMbsync(elapsed: &mbsyncSeconds), let first = mbsyncSeconds["first run"] {
      print(
        "peer: mbsync IMAP to IMAP".padding(toLength: 46, withPad: " ", startingAt: 0)
          + String(
            format: "%8.0f msg/s  %8.1f MB/s  %6.2f s  (%d messages)", Double(result.messages) / first,
            Double(result.bytes) / 1e6 / first, first, result.messages))
      if let again = mbsyncSeconds["rerun, nothing changed"] { reruns.append(("peer: mbsync", again)) }
    }
  }
  var imapsyncSeconds: [String: Double] = [:]
  var imapsyncPeakKB: Int?
  if let result = try migrateWithImapsync(elapsed: &imapsyncSeconds, peakKB: &imapsyncPeakKB),
    let first = imapsyncSeconds["first run"]
  {
    print(
      "peer: imapsync IMAPS to IMAPS".padding(toLength: 46, withPad: " ", startingAt: 0)
        + String(
          format: "%8.0f msg/s  %8.1f MB/s  %6.2f s  (%d messages)", Double(result.messages) / first,
          Double(result.bytes) / 1e6 / first, first, result.messages)
        + (imapsyncPeakKB.map { String(format: ", peak %.0f MB", Double($0) / 1024) } ?? ""))
    if let again = imapsyncSeconds["rerun, nothing changed"] { reruns.append(("peer: imapsync", again)) }
  } else {
    print("peer: imapsync not run (needs ../shared/peers/imapsync and: scripts/install-test-deps --bench)")
  }
  print("\nthe same job run again with nothing changed (\(messageCount) messages checked):")
  for rerun in reruns {
    print(rerun.name.padding(toLength: 46, withPad: " ", startingAt: 0) + String(format: "%6.2f s", rerun.seconds))
  }
}

@MainActor func measureOnce(_ name: String, _ body: () throws -> (messages: Int, bytes: Int)?) rethrows -> Double? {
  let start = ContinuousClock.now
  guard let result = try body() else { return nil }
  let elapsed = seconds(ContinuousClock.now - start)
  print(
    name.padding(toLength: 46, withPad: " ", startingAt: 0)
      + String(
        format: "%8.0f msg/s  %8.1f MB/s  %6.2f s  (%d messages)", Double(result.messages) / elapsed,
        Double(result.bytes) / 1e6 / elapsed, elapsed, result.messages)
      + (peakOfLastRunKB.map { String(format: ", peak %.0f MB", Double($0) / 1024) } ?? ""))
  peakOfLastRunKB = nil
  return Double(result.messages) / elapsed
}

// MARK: Backup

if runs("backup") {
  try runBackupBenchmark(
    server: server, account: account, password: user.password, messages: messageCount, bytes: totalBytes)
}

// MARK: POP3

if runs("pop3") {
  try runPOP3Benchmark(server: server, corpus: corpus, count: option("--pop3-messages", default: 5000), rounds: rounds)
}

// MARK: Parser alone

if runs("parser") {

  let parserInput: [UInt8] = {
    var bytes: [UInt8] = []
    for number in 0..<2000 {
      let message = corpus.message(number: number)
      bytes += Array("* \(number + 1) FETCH (UID \(number + 1) BODY[] {\(message.count)}\r\n".utf8) + message
      bytes += Array(")\r\n".utf8)
    }
    return bytes
  }()
  var parsedBytes = 0
  let parseStart = ContinuousClock.now
  for _ in 0..<rounds {
    var parser = ResponseParser()
    var offset = 0
    try parserInput.withUnsafeBytes { all in
      while offset < all.count {
        // 64 KiB windows, as the connection's buffer hands them over.
        let window = UnsafeRawBufferPointer(rebasing: all[offset..<min(all.count, offset + 65536)])
        let step = try parser.parse(window)
        if case .bodyBytes(let range)? = step.event { parsedBytes += range.count }
        if step.consumed == 0 && step.event == nil { break }
        offset += step.consumed
      }
    }
  }
  let parseSeconds = seconds(ContinuousClock.now - parseStart)
  print(
    String(
      format: "\nresponse parser alone: %.0f MB/s over %d FETCH responses (bodies handed out in place, not copied)",
      Double(parserInput.count * rounds) / 1e6 / parseSeconds, 2000))
}
