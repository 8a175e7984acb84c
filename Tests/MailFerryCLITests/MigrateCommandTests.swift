import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// `mailferry migrate` end to end: in process, and as the built binary killed at random
/// moments.
@Suite struct MigrateCommandTests {
  let sourceServer: DovecotServer
  let targetServer: DovecotServer
  let sourceUser: DovecotServer.User
  let targetUser: DovecotServer.User
  let directory: String

  init() throws {
    sourceServer = try DovecotServer.shared()
    targetServer = try DovecotServer.shared("exchange-like")
    sourceUser = try sourceServer.createUser("msrc")
    targetUser = try targetServer.createUser("mdst")
    directory = NSTemporaryDirectory() + "mailferry-migrate-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (name, password) in [("source", sourceUser.password), ("target", targetUser.password)] {
      try Data(password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
      chmod("\(directory)/\(name).pw", 0o600)
    }
  }

  var sourceURL: String { "imaps://\(sourceUser.name)@localhost:\(sourceServer.imapsPort)" }
  var targetURL: String { "imaps://\(targetUser.name)@localhost:\(targetServer.imapsPort)" }
  var common: [String] {
    [
      "--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw",
      "--source-ca-file", sourceServer.caFile, "--target-ca-file", targetServer.caFile,
      "--state", "\(directory)/state.sqlite",
    ]
  }

  func client(_ server: DovecotServer, _ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile)))
    try client.login(.password(user.password))
    return client
  }

  /// Folder → sorted content hashes.
  func contents(_ server: DovecotServer, _ user: DovecotServer.User) throws -> [String: [String]] {
    let client = try client(server, user)
    defer { client.logout() }
    var result: [String: [String]] = [:]
    for folder in try client.listFolders() where folder.isSelectable {
      try client.select(folder.name, readOnly: true)
      let uids = try client.uidSearch(.all)
      let hashes = uids.isEmpty ? [] : try client.fetchMessages(uids).map { ContentHasher.hash($0.bytes).hex }
      if !hashes.isEmpty { result[folder.displayName] = hashes.sorted() }
    }
    return result
  }

  func fill(folders: [String: Int], bodyLines: Int = 20) throws {
    let client = try client(sourceServer, sourceUser)
    defer { client.logout() }
    for (folder, count) in folders {
      if folder != "INBOX" { try client.create(client.mailboxName(folder), separator: "/") }
      let messages = (1...count).map { number in
        MessageToStore(
          bytes: Array(
            ("From: a@example.org\r\nSubject: \(folder) \(number)\r\nMessage-ID: <\(folder.hashValue)-\(number)@x>\r\n\r\n"
              + String(
                repeating: "line \(number) of a message in \(folder), to give it some size\r\n", count: bodyLines))
              .utf8), flags: number % 3 == 0 ? ["\\Seen"] : [])
      }
      for chunk in stride(from: 0, to: messages.count, by: 100) {
        try client.append(Array(messages[chunk..<min(chunk + 100, messages.count)]), to: client.mailboxName(folder))
      }
    }
  }

  @Test func migrateReportsAndIsIncremental() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(folders: ["INBOX": 5, "Sent": 2, "Projekte/Größe & Co": 3])
    let dry = CapturedRun(["migrate", sourceURL, targetURL, "--dry-run"] + common)
    #expect(dry.status == .success, "\(dry.err)")
    #expect(dry.out.contains("dry run: nothing was written"))
    #expect(dry.out.split(separator: "\n").first?.hasPrefix(" TO COPY") == true, "\(dry.out)")
    #expect(try contents(targetServer, targetUser).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/state.sqlite"), "a dry run writes no state file")

    let run = CapturedRun(["migrate", sourceURL, targetURL] + common)
    #expect(run.status == .success, "\(run.err)")
    #expect(run.err.contains("Sent → Sent Items (special use \\Sent)"))
    #expect(run.out.contains("Projekte/Größe & Co → Projekte.Größe & Co"))
    let totals = run.out.split(separator: "\n").last { $0.contains("total") }
    #expect(totals?.split(separator: " ").first == "10")
    var expected = try contents(sourceServer, sourceUser)
    expected["Sent Items"] = expected.removeValue(forKey: "Sent")
    expected["Projekte.Größe & Co"] = expected.removeValue(forKey: "Projekte/Größe & Co")
    #expect(try contents(targetServer, targetUser) == expected)

    let again = CapturedRun(["migrate", sourceURL, targetURL, "--quiet"] + common)
    #expect(again.status == .success)
    #expect(again.out.isEmpty && again.err.isEmpty)
    // A dry run after a real one reads its state: nothing left to copy; the file is unchanged.
    let before = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/state.sqlite"))
    let dryAgain = CapturedRun(["migrate", sourceURL, targetURL, "--dry-run"] + common)
    #expect(dryAgain.out.split(separator: "\n").last { $0.contains("total") }?.split(separator: " ").first == "0")
    #expect(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/state.sqlite")) == before)

    let verifyArguments = ["verify", sourceURL, targetURL] + common.dropLast(2)  // no --state
    let verified = CapturedRun(Array(verifyArguments))
    #expect(verified.status == .success, "\(verified.err)")
    #expect(verified.out.contains("Sent → Sent Items"))

    // A message deleted in the target is found missing.
    let client = try client(targetServer, targetUser)
    try client.select(client.mailboxName("Projekte.Größe & Co"), readOnly: false)
    let victim = try #require(try client.uidSearch(.all).min)
    try client.store(UIDSet([victim]), .add, flags: ["\\Deleted"])
    try client.expunge(UIDSet([victim]))
    client.logout()
    let broken = CapturedRun(Array(verifyArguments))
    #expect(broken.status == .partial)
    #expect(broken.err.contains("Projekte/Größe & Co: 1 message(s) missing in Projekte.Größe & Co"))
  }

  @Test func badOptionsAndWrongPasswords() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(CapturedRun(["migrate", sourceURL, targetURL, "--dedup", "maybe"] + common).status == .usage)
    #expect(CapturedRun(["migrate", sourceURL, targetURL, "--since", "yesterday"] + common).status == .usage)
    #expect(CapturedRun(["migrate", sourceURL, targetURL, "--include", "("] + common).status == .usage)
    #expect(CapturedRun(["migrate", sourceURL, targetURL, "--folder-map", "x"] + common).status == .usage)
    #expect(CapturedRun(["migrate", sourceURL, targetURL, "--connections", "0.5"] + common).status == .usage)
    #expect(CapturedRun(["migrate", sourceURL, targetURL, "--batch", "0"] + common).status == .usage)
    try Data("wrong".utf8).write(to: URL(fileURLWithPath: "\(directory)/target.pw"))
    let wrong = CapturedRun(["migrate", sourceURL, targetURL] + common)
    #expect(wrong.status == .noPermission)
    #expect(wrong.err.contains("login as \(targetUser.name) failed"))
  }

  @Test func killedAtRandomMomentsThenResumedEndsWithEveryMessageExactlyOnce() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(folders: ["INBOX": 150, "Archive/2023": 150, "Lists": 100], bodyLines: 600)
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    var random = SystemRandomNumberGenerator()
    var kills = 0
    var partial: [Int] = []  // target message counts seen between 0 and all
    var inFlight = 0  // kills that left a batch recorded but not committed
    // Twelve rounds, and more (up to 24) until a kill has left a batch in flight.
    for round in 0..<24 {
      if round >= 12 && inFlight > 0 { break }
      let log = "\(directory)/run-\(round).log"
      let before = try targetMessageCount()
      let pid = try Subprocess.start([binary, "migrate", sourceURL, targetURL, "--quiet"] + common, logFile: log)
      // Wait until messages are moving, then kill at a random moment soon after: between
      // an intent and its commit, in the middle of an APPEND, or between batches.
      var status: Int32 = 0
      var exited = false
      for _ in 0..<500 {
        if waitpid(pid, &status, WNOHANG) == pid {
          exited = true
          break
        }
        if try targetMessageCount() > before { break }
        usleep(10_000)
      }
      if exited { break }
      // Half the rounds kill at once (likely between an APPEND's OK and its commit).
      usleep(
        round % 2 == 0 ? UInt32.random(in: 0...5_000, using: &random) : UInt32.random(in: 0...150_000, using: &random))
      if kill(pid, SIGKILL) == 0 { kills += 1 }
      Subprocess.wait(for: pid)
      let count = try targetMessageCount()
      if count > 0 && count < 400 { partial.append(count) }
      if try BackupCommandTests.pendingRows(in: ["\(directory)/state.sqlite"]) > 0 { inFlight += 1 }
    }
    let final = try Subprocess.run([binary, "migrate", sourceURL, targetURL] + common, check: false)
    #expect(final.status == 0, "\(final.stderr)")
    var expected = try contents(sourceServer, sourceUser)
    expected["Archive.2023"] = expected.removeValue(forKey: "Archive/2023")
    let actual = try contents(targetServer, targetUser)
    #expect(actual == expected, "after \(kills) kills: \(actual.mapValues(\.count)) vs \(expected.mapValues(\.count))")
    #expect(kills > 0)
    // The kills landed while messages were moving, not only before or after.
    #expect(!partial.isEmpty, "no kill interrupted the transfer")
    // At least one kill landed between a batch's intent and its commit (CrashPointTests cover
    // that window deterministically).
    #expect(inFlight > 0, "no kill left a batch in flight")
    print("kill rounds left the target with", partial, "of 400 messages;", inFlight, "left a batch in flight")
  }

  func targetMessageCount() throws -> Int {
    let client = try client(targetServer, targetUser)
    defer { client.logout() }
    var total = 0
    for folder in try client.listFolders() where folder.isSelectable {
      total += Int(try client.status(folder.name, items: ["MESSAGES"])["MESSAGES"] ?? 0)
    }
    return total
  }
}
