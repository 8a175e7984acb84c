import Archive
import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// Jobs that log in with `--oauth-token-command` while their tokens expire: the connections
/// are cut after the tokens have expired, so the job can only finish if every new
/// connection runs the command again. Against the Dovecot that asks the token service.
@Suite struct OAuthTokenJobTests {
  let servers: OAuthServers
  let source: DovecotServer.User
  let target: DovecotServer.User
  let directory: String

  init() throws {
    servers = try OAuthServers.shared()
    source = try servers.dovecot.createUser("oasrc")
    target = try servers.dovecot.createUser("oadst")
    directory = NSTemporaryDirectory() + "mailferry-oauth-job-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  var dovecot: DovecotServer { servers.dovecot }
  var tokens: OAuthTokenService { servers.tokens }

  func imaps(_ user: DovecotServer.User) -> String { "imaps://\(user.name)@localhost:\(dovecot.imapsPort)" }

  /// A session logged in with the password, to fill and read the accounts.
  func client(_ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: dovecot.host, port: dovecot.imapsPort, user: user.name, tls: TLSOptions(caFile: dovecot.caFile))
    )
    try client.login(.password(user.password))
    return client
  }

  /// Puts `count` messages in each folder; returns folder → sorted content hashes.
  @discardableResult
  func fill(_ user: DovecotServer.User, _ folders: [String: Int]) throws -> [String: [String]] {
    let client = try client(user)
    defer { client.logout() }
    var hashes: [String: [String]] = [:]
    for (folder, count) in folders {
      if folder != "INBOX" { try client.create(client.mailboxName(folder), separator: "/") }
      let messages = (1...count).map { number in
        Array(
          ("From: a@example.org\r\nSubject: \(folder) \(number)\r\nMessage-ID: <oauth-\(number)-\(UUID())@x>\r\n\r\n"
            + String(repeating: "line \(number) of \(folder)\r\n", count: 40)).utf8)
      }
      try client.append(messages.map { MessageToStore(bytes: $0) }, to: client.mailboxName(folder))
      hashes[folder] = messages.map { ContentHasher.hash($0).hex }.sorted()
    }
    return hashes
  }

  /// Folder → sorted content hashes of what `user` holds.
  func contents(_ user: DovecotServer.User) throws -> [String: [String]] {
    let client = try client(user)
    defer { client.logout() }
    var result: [String: [String]] = [:]
    for folder in try client.listFolders() where folder.isSelectable {
      try client.select(folder.name, readOnly: true)
      let uids = try client.uidSearch(.all)
      if !uids.isEmpty {
        result[folder.displayName] = try client.fetchMessages(uids).map { ContentHasher.hash($0.bytes).hex }.sorted()
      }
    }
    return result
  }

  /// After the first batch, from the worker that printed it (so no batch is in flight):
  /// waits until every token of `users` has expired, then kills their sessions. Returns
  /// the number of sessions killed and how many tokens each user had been issued by then.
  final class CutAfterExpiry: @unchecked Sendable {
    let servers: OAuthServers
    let users: [String]
    private(set) var sessionsCut = 0
    private(set) var issuedBeforeCut: [String: Int] = [:]
    private var done = false

    init(_ servers: OAuthServers, users: [String]) {
      self.servers = servers
      self.users = users
    }

    func onOutput(_ text: String) {
      guard !done, text.contains(#""event":"batch""#) else { return }
      done = true
      for user in users {
        try? servers.tokens.waitUntilAllTokensExpired(for: user)
        issuedBeforeCut[user] = servers.tokens.issuedCount(for: user)
      }
      for user in users { sessionsCut += (try? servers.dovecot.dropConnections(of: user)) ?? 0 }
    }
  }

  @Test func anIMAPMigrationLogsInWithAFreshTokenAfterItsTokensExpired() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let expected = try fill(source, ["INBOX": 30, "Projects": 20])
    for user in [source, target] { tokens.setPolicy(.init(lifetime: 2), for: user.name) }
    let cut = CutAfterExpiry(servers, users: [source.name, target.name])
    let run = HookedRun(
      [
        "migrate", imaps(source), imaps(target), "--ca-file", dovecot.caFile,
        "--source-oauth-token-command", tokens.tokenCommand(for: source.name),
        "--target-oauth-token-command", tokens.tokenCommand(for: target.name),
        "--state", "\(directory)/state.sqlite", "--batch", "5", "--connections", "1", "--json",
        "--trace", "\(directory)/trace",
      ], onOutput: cut.onOutput)
    #expect(run.status == .success, "\(run.err)")
    #expect(cut.sessionsCut >= 2, "the sessions were not cut")
    let trace = try String(contentsOfFile: "\(directory)/trace", encoding: .utf8)
    #expect(trace.contains("AUTHENTICATE OAUTHBEARER <redacted>"))
    for token in tokens.issuedTokens(for: source.name) + tokens.issuedTokens(for: target.name) {
      #expect(!run.out.contains(token) && !run.err.contains(token) && !trace.contains(token), "a token was printed")
    }
    #expect(run.out.contains(#""event":"reconnecting""#))
    #expect(try contents(target) == expected)
    for user in [source.name, target.name] {
      let before = try #require(cut.issuedBeforeCut[user])
      #expect(before >= 2, "a token for the check login and one for the worker")
      #expect(tokens.issuedCount(for: user) > before, "no fresh token for \(user) after the cut")
    }
  }

  @Test func aPOP3BackupLogsInWithAFreshTokenAfterItsTokensExpired() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var delivered: [String] = []
    for number in 1...40 {
      let message = Array(
        "From: pop@example.org\r\nSubject: pop \(number)\r\n\r\n\(String(repeating: "body \(number)\r\n", count: 30))"
          .utf8)
      try dovecot.deliver(message, to: source.name)
      delivered.append(ContentHasher.hash(message).hex)
    }
    tokens.setPolicy(.init(lifetime: 2), for: source.name)
    let cut = CutAfterExpiry(servers, users: [source.name])
    let archivePath = "\(directory)/archive"
    let run = HookedRun(
      [
        "backup", "pop3s://\(source.name)@localhost:\(dovecot.pop3sPort)", archivePath, "--ca-file", dovecot.caFile,
        "--oauth-token-command", tokens.tokenCommand(for: source.name), "--batch", "5", "--json",
      ], onOutput: cut.onOutput)
    #expect(run.status == .success, "\(run.err)")
    #expect(cut.sessionsCut >= 1, "the session was not cut")
    #expect(run.out.contains(#""event":"reconnecting""#))
    let before = try #require(cut.issuedBeforeCut[source.name])
    #expect(tokens.issuedCount(for: source.name) > before, "no fresh token after the cut")
    let archive = try Archive(path: archivePath, create: false)
    let inbox = try #require(try archive.folder(named: "INBOX"))
    let stored = try archive.read(try archive.allMessages(inbox)).map { ContentHasher.hash($0).hex }
    #expect(stored.sorted() == delivered.sorted())
  }

  @Test func smtpInjectionLogsInWithATokenThroughPostfix() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let postfix = try servers.postfix()
    try Data(source.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/source.pw"))
    chmod("\(directory)/source.pw", 0o600)
    var originals: [[UInt8]] = []
    let client = try client(source)
    for number in 1...5 {
      originals.append(
        Array(
          ("Return-Path: <sender@example.org>\r\nFrom: sender@example.org\r\nSubject: oauth inject \(number)\r\n"
            + "Message-ID: <oauth-inject-\(number)-\(UUID())@example.org>\r\n\r\nbody \(number)\r\n").utf8))
    }
    try client.append(originals.map { MessageToStore(bytes: $0) }, to: MailboxName("INBOX"))
    client.logout()
    // The first token is refused: the login renews it once and goes on.
    tokens.setPolicy(.init(refusedTokens: 1), for: target.name)
    let run = CapturedRun([
      "migrate", imaps(source), "smtps://\(target.name)@localhost:\(postfix.smtpsPort)", "--ca-file", dovecot.caFile,
      "--source-password-file", "\(directory)/source.pw",
      "--target-oauth-token-command", tokens.tokenCommand(for: target.name),
      "--rcpt", PostfixServer.address(of: target.name), "--state", "\(directory)/state.sqlite", "--connections", "1",
      "--delivery-sessions", "2",
    ])
    #expect(run.status == .success, "\(run.err)")
    // The check login (a refused token, then a fresh one), the worker's session and its
    // second delivery session.
    #expect(tokens.issuedCount(for: target.name) == 4)
    try postfix.waitForEmptyQueue(timeout: 30)
    let inbox = try self.client(target)
    defer { inbox.logout() }
    try inbox.select(MailboxName("INBOX"), readOnly: true)
    let uids = try inbox.uidSearch(.all)
    let arrived = uids.isEmpty ? [] : try inbox.fetchMessages(uids).map(\.bytes)
    #expect(arrived.count == originals.count)
    for original in originals {
      #expect(arrived.filter { $0.count >= original.count && Array($0.suffix(original.count)) == original }.count == 1)
    }
  }

  @Test func aJobWhoseTokensAreAlwaysRefusedStopsWithTheReason() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(source, ["INBOX": 3])
    tokens.setPolicy(.init(refuseAll: true), for: source.name)
    let run = CapturedRun([
      "migrate", imaps(source), imaps(target), "--ca-file", dovecot.caFile,
      "--source-oauth-token-command", tokens.tokenCommand(for: source.name),
      "--target-oauth-token-command", tokens.tokenCommand(for: target.name),
      "--state", "\(directory)/state.sqlite",
    ])
    #expect(run.status == .noPermission)
    #expect(
      run.err.contains(
        "error: localhost:\(dovecot.imapsPort): login as \(source.name) failed: the server refused the token from "
          + "--source-oauth-token-command, and again a fresh one"), "\(run.err)")
    #expect(run.err.contains("hint: the token command's tokens are not accepted for \(source.name)"))
    #expect(tokens.issuedCount(for: source.name) == 2)
    #expect(try contents(target).isEmpty)
  }

  @Test func aTokenCommandThatHangsIsStoppedAtItsTimeout() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let script = "\(directory)/hang.sh"
    try "#!/bin/sh\necho $$ > '\(directory)/shell'\nsleep 600 &\necho $! > '\(directory)/child'\nwait\n".write(
      toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o700)
    let run = CapturedRun([
      "probe", imaps(source), "--ca-file", dovecot.caFile, "--oauth-token-command", script,
      "--oauth-token-timeout", "1",
    ])
    #expect(run.status == .temporary)
    #expect(run.err.contains("error: --oauth-token-command gave no token within 1 s and was stopped"), "\(run.err)")
    #expect(run.err.contains("--oauth-token-timeout"))
    let shell = try TokenCommandTests.pid(in: "\(directory)/shell")
    let child = try TokenCommandTests.pid(in: "\(directory)/child")
    for _ in 0..<100 where !(TokenCommandTests.isGone(shell) && TokenCommandTests.isGone(child)) { usleep(20_000) }
    #expect(TokenCommandTests.isGone(shell) && TokenCommandTests.isGone(child), "the command or its child still runs")
  }
}

/// A command run in process whose standard output lines reach `onOutput` as they are
/// printed, on the thread that prints them: a test can act at a given point of a job.
struct HookedRun {
  let status: ExitCode
  let out: String
  let err: String

  init(_ arguments: [String], onOutput: @escaping @Sendable (String) -> Void) {
    final class Buffer: @unchecked Sendable { var text = "" }
    let out = Buffer()
    let err = Buffer()
    let console = Console(
      out: {
        out.text += $0
        onOutput($0)
      }, err: { err.text += $0 }, isTerminal: false)
    status = MailFerryCommandLine.run(arguments, console: console)
    self.out = out.text
    self.err = err.text
  }
}
