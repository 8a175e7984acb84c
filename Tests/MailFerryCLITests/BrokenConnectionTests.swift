import Archive
import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

/// Jobs through a `FaultInjectingProxy` that breaks most connections (cuts after a random
/// number of bytes, cuts inside a literal, stalls, slow links), rerun until they finish: the
/// target ends with every source message exactly once. SMTP and LMTP may double at most one
/// message per broken connection (the window docs/cli.md describes), never lose one.
@Suite struct BrokenConnectionTests {
  let server: DovecotServer
  let sourceUser: DovecotServer.User
  let targetUser: DovecotServer.User
  let directory: String
  let binary: String

  /// Runs allowed before a job must have finished.
  static let maxRuns = 40
  /// Faults for IMAP (plain cuts twice as likely as the others; stalled and slow connections
  /// are cut later too), and for protocols without literals.
  static let imapFaults: [FaultKind] = [.cut, .cut, .cutInsideLiteral, .stall, .slow]
  static let streamFaults: [FaultKind] = [.cut, .cut, .stall, .slow]

  init() throws {
    server = try DovecotServer.shared("plaintext-only")
    sourceUser = try server.createUser("brksrc")
    targetUser = try server.createUser("brkdst")
    directory = NSTemporaryDirectory() + "mailferry-broken-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (user, name) in [(sourceUser, "source"), (targetUser, "target")] {
      try Data(user.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
      chmod("\(directory)/\(name).pw", 0o600)
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    binary = root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
  }

  func client(_ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(
        host: server.host, port: server.imapPort, user: user.name, security: .startTLS, tls: .verified,
        allowPlaintext: true))
    try client.login(.password(user.password))
    return client
  }

  /// Appends `count` messages to each folder of the source.
  func fill(_ count: Int, folders: [String]) throws {
    let client = try client(sourceUser)
    defer { client.logout() }
    for folder in folders {
      if folder != "INBOX" { try client.create(MailboxName(folder), separator: "/") }
      try client.append(
        (1...count).map { MessageToStore(bytes: Self.message(folder, $0), flags: $0 % 2 == 0 ? ["\\Seen"] : []) },
        to: MailboxName(folder))
    }
  }

  static func message(_ folder: String, _ number: Int) -> [UInt8] {
    Array(
      ("From: sender@example.org\r\nSubject: \(folder) \(number)\r\n"
        + "Message-ID: <broken-\(folder)-\(number)-\(UUID().uuidString)@example.org>\r\n\r\n"
        + String(repeating: "line \(number) of a body long enough to be cut in the middle\r\n", count: 80)).utf8)
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

  /// Runs `arguments` until a run exits 0, at most `maxRuns` times; returns the runs made.
  /// Pauses before a reconnect are shortened (`MAILFERRY_BACKOFF_SCALE`); a server silent
  /// for `timeout` seconds is given up.
  func rerunUntilDone(_ arguments: [String], timeout: Int = 10) throws -> Int {
    for run in 1...Self.maxRuns {
      let result = try Subprocess.run(
        [binary] + arguments + ["--quiet", "--timeout", "\(timeout)"], environment: ["MAILFERRY_BACKOFF_SCALE": "0.01"],
        check: false)
      if result.status == 0 { return run }
    }
    Issue.record("\(arguments[0]) did not finish in \(Self.maxRuns) runs")
    return Self.maxRuns
  }

  func imapURL(_ user: DovecotServer.User, port: Int) -> String { "imap://\(user.name)@localhost:\(port)" }

  var passwords: [String] {
    ["--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw"]
  }

  @Test func imapToImapThroughBrokenConnectionsEndsExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(12, folders: ["INBOX", "Lists"])
    let proxy = try FaultInjectingProxy(
      upstreamPort: server.imapPort,
      plan: .random(seed: 1, rate: 0.9, span: 20_000, kinds: Self.imapFaults, slowRate: 2 << 20))
    defer { proxy.stop() }
    let runs = try rerunUntilDone(
      ["migrate", imapURL(sourceUser, port: proxy.port), imapURL(targetUser, port: proxy.port), "--allow-plaintext"]
        + ["--no-compress", "--batch", "5", "--state", "\(directory)/state.sqlite"] + passwords)
    #expect(try contents(targetUser) == contents(sourceUser))
    #expect(proxy.faults[.cut, default: 0] + proxy.faults[.cutInsideLiteral, default: 0] >= 5, "\(proxy.faults)")
    print("IMAP → IMAP: \(runs) runs, \(proxy.connectionCount) connections, faults \(proxy.faults)")
  }

  /// Here stalls outlast `--timeout`: the client gives up on the silent server and reconnects.
  @Test func pop3DownloadThroughBrokenConnectionsEndsExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for number in 1...20 { try server.deliver(Self.message("pop", number), to: sourceUser.name) }
    let proxy = try FaultInjectingProxy(
      upstreamPort: server.pop3Port,
      plan: .random(
        seed: 2, rate: 0.9, span: 20_000, kinds: Self.streamFaults, stallSeconds: 1.5, slowRate: 2 << 20))
    defer { proxy.stop() }
    let runs = try rerunUntilDone(
      ["migrate", "pop3://\(sourceUser.name)@localhost:\(proxy.port)", imapURL(targetUser, port: server.imapPort)]
        + ["--allow-plaintext", "--batch", "5", "--state", "\(directory)/state.sqlite"] + passwords, timeout: 1)
    #expect(try contents(targetUser)["INBOX"] == contents(sourceUser)["INBOX"])
    #expect(proxy.faults[.cut, default: 0] >= 3, "\(proxy.faults)")
    print("POP3 → IMAP: \(runs) runs, \(proxy.connectionCount) connections, faults \(proxy.faults)")
  }

  @Test func backupAndRestoreThroughBrokenConnectionsEndExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(10, folders: ["INBOX", "Lists"])
    let proxy = try FaultInjectingProxy(
      upstreamPort: server.imapPort,
      plan: .random(seed: 3, rate: 1, span: 20_000, kinds: Self.imapFaults, slowRate: 2 << 20))
    defer { proxy.stop() }
    let archive = "\(directory)/archive"
    let backupRuns = try rerunUntilDone(
      ["backup", imapURL(sourceUser, port: proxy.port), archive, "--allow-plaintext", "--no-compress", "--batch", "5"]
        + ["--source-password-file", "\(directory)/source.pw"])
    let source = try contents(sourceUser)
    let stored = try Archive(path: archive, create: false)
    var archived: [String: [String]] = [:]
    for folder in try stored.folders() where try stored.messageCount(folder) > 0 {
      archived[folder.name] = try stored.allMessages(folder).map(\.sha256.hex).sorted()
    }
    #expect(archived == source)
    #expect(try stored.verify().isIntact)
    let backupFaults = proxy.faults

    let restoreRuns = try rerunUntilDone(
      ["restore", archive, imapURL(targetUser, port: proxy.port), "--allow-plaintext", "--no-compress", "--batch", "5"]
        + ["--target-password-file", "\(directory)/target.pw", "--state", "\(directory)/restore.sqlite"])
    #expect(try contents(targetUser) == source)
    #expect(backupFaults[.cut, default: 0] >= 3 && proxy.faults[.cut, default: 0] > backupFaults[.cut, default: 0])
    print(
      "backup: \(backupRuns) runs, faults \(backupFaults); restore: \(restoreRuns) runs, all faults \(proxy.faults)")
  }
}
