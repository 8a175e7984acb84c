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
//   mailferry-bench [--messages N] [--pop3-messages N] [--sizemix-messages N] [--rounds R]
//                   [--corpus standard,sizemix] [--slow-link-messages N] [--slow-link-kbps K]
//                   [--noop-messages N] [--noop-mbsync 1]
//                   [--only fetch,migrate,noop,slowlink,verify,backup,pop3,parser]
//                   [--cli-variants 'defaults;--no-verify;--connections 8'] [--no-peers]

// An option given twice takes its last value (`make bench-quick BENCH_ARGS=…` overrides).
let arguments = CommandLine.arguments
func option(_ name: String, default value: Int) -> Int {
  guard let index = arguments.lastIndex(of: name), index + 1 < arguments.count, let number = Int(arguments[index + 1])
  else { return value }
  return number
}
func listOption(_ name: String) -> Set<String>? {
  arguments.lastIndex(of: name).flatMap { index in
    index + 1 < arguments.count ? Set(arguments[index + 1].split(separator: ",").map(String.init)) : nil
  }
}
let messageCount = option("--messages", default: 10000)
let rounds = option("--rounds", default: 3)
/// The sections to run (`--only a,b`); all by default.
let sections = listOption("--only")
func runs(_ section: String) -> Bool { sections?.contains(section) ?? true }
/// The corpora the migrate section copies (`--corpus standard,sizemix`); both by default.
let corpora = listOption("--corpus") ?? ["standard", "sizemix"]
/// The CLI runs of the migrate section, each a set of extra options (`--cli-variants
/// 'defaults;--no-verify'`, `defaults` for none); the standard set when absent.
let cliVariants: [[String]]? = arguments.lastIndex(of: "--cli-variants").flatMap { index in
  guard index + 1 < arguments.count else { return nil }
  return arguments[index + 1].split(separator: ";").map { variant in
    variant.split(separator: " ").map(String.init).filter { $0 != "defaults" }
  }
}
/// `--no-peers`: the migrate section runs MailFerry and the minimal client only.
let runsPeers = !arguments.contains("--no-peers")

print("mailferry-bench: \(messageCount) messages, best of \(rounds) rounds")
let server = try DovecotServer(flavor: .standard)
defer { server.stop() }

// MARK: Data

let folders = ["INBOX", "Archive/2023", "Archive/2024", "Lists/swift-dev"]
let corpus = SyntheticMail(seed: 42)
let standard = try BenchSource.populate(
  "standard", server: server, folders: folders, count: messageCount, message: corpus.message(number:))
let user = standard.user
let account = standard.account
let totalBytes = standard.bytes

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
  let sectionStart = ContinuousClock.now
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
  printSectionTime("fetch", since: sectionStart)
}

// MARK: Migration

/// A second Dovecot laid out like another provider, to migrate into.
let targetServer = try DovecotServer(flavor: .exchangeLike)
defer { targetServer.stop() }

/// The peak resident memory of the last run of a separate process, when it was measured;
/// `measureOnce` prints it with the row and clears it.
var peakOfLastRunKB: Int?

if runs("verify") {
  let sectionStart = ContinuousClock.now
  print("")
  print("what reading stored copies back costs: migrate (2 connections) and back up (gzip 6), one round each:")
  for verify: MigrationOptions.VerifyMode in [.off, .automatic, .at(.content)] {
    let job = EngineMigration(
      source: standard, target: try CopyTarget(server: targetServer, prefix: "mf"), connections: 2, verify: verify)
    defer { job.remove() }
    _ = try measureOnce("mailferry migrate, read back: \(verify)") {
      try job.run().map { (messages: $0.messages, bytes: $0.bytes) }
    }
  }
  for verify: MigrationOptions.VerifyMode in [.off, .automatic, .at(.header), .at(.content)] {
    try backupOnce(server: server, account: account, password: user.password, level: 6, verify: verify)
  }
  printSectionTime("verify", since: sectionStart)
}
/// The peak memory of the CLI's default run on the standard corpus, for the no-op section.
var standardPeakKB: Int?
if runs("migrate") {
  let sectionStart = ContinuousClock.now
  if corpora.contains("standard") {
    standardPeakKB = try runMigrateSection(standard, targetServer: targetServer, withEngine: true)
  }
  if corpora.contains("sizemix") {
    let sizeMix = try BenchSource.populate(
      "sizemix", server: server, folders: SizeMixMail.folders, count: option("--sizemix-messages", default: 10000),
      message: SizeMixMail(seed: 7).message(number:))
    try runMigrateSection(sizeMix, targetServer: targetServer, withEngine: false)
  }
  printSectionTime("migrate", since: sectionStart)
}
if runs("noop") {
  let sectionStart = ContinuousClock.now
  try runNoopSection(
    server: server, targetServer: targetServer, messages: option("--noop-messages", default: 100_000),
    smallerRun: standardPeakKB.map { (messageCount, $0) }, withMbsync: option("--noop-mbsync", default: 0) == 1)
  printSectionTime("noop", since: sectionStart)
}
if runs("slowlink") {
  let sectionStart = ContinuousClock.now
  try runSlowLinkSection(
    server: server, targetServer: targetServer, messages: option("--slow-link-messages", default: 1000),
    rate: option("--slow-link-kbps", default: 4000) * 1000)
  printSectionTime("slowlink", since: sectionStart)
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
  let sectionStart = ContinuousClock.now
  try runBackupBenchmark(
    server: server, account: account, password: user.password, messages: messageCount, bytes: totalBytes)
  printSectionTime("backup", since: sectionStart)
}

// MARK: POP3

if runs("pop3") {
  let sectionStart = ContinuousClock.now
  try runPOP3Benchmark(server: server, corpus: corpus, count: option("--pop3-messages", default: 5000), rounds: rounds)
  printSectionTime("pop3", since: sectionStart)
}

// MARK: Parser alone

if runs("parser") {
  let sectionStart = ContinuousClock.now

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
  printSectionTime("parser", since: sectionStart)
}
