import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// Jobs against servers that throttle: a real Dovecot (IMAP, POP3) or Postfix (SMTP)
/// behind a `ThrottlingProxy` that answers scheduled commands as Microsoft 365, Gmail and
/// busy maildrops do. Every job ends exact (each message once, bytes equal, a rerun adds
/// nothing) and says it waited; one throttled for ever stops with exit 75 and its checkpoint,
/// and a later run finishes it. Pauses are scaled down (`MAILFERRY_BACKOFF_SCALE`).
@Suite struct ThrottlingServerTests {
  /// Set once for the whole test process, before any job reads it.
  static let backoffScaled: Void = { setenv("MAILFERRY_BACKOFF_SCALE", "0.01", 1) }()

  let server: DovecotServer
  let sourceUser: DovecotServer.User
  let targetUser: DovecotServer.User
  let directory: String

  init() throws {
    Self.backoffScaled
    server = try DovecotServer.shared("plaintext-only")
    sourceUser = try server.createUser("thrsrc")
    targetUser = try server.createUser("thrdst")
    directory = NSTemporaryDirectory() + "mailferry-throttling-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (user, name) in [(sourceUser, "source"), (targetUser, "target")] {
      try Data(user.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
      chmod("\(directory)/\(name).pw", 0o600)
    }
  }

  func client(_ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(
        host: server.host, port: server.imapPort, user: user.name, security: .startTLS, tls: .verified,
        allowPlaintext: true))
    try client.login(.password(user.password))
    return client
  }

  /// Puts `count` messages into each of `folders` of the source; returns their hashes.
  func fill(_ count: Int, folders: [String] = ["INBOX"]) throws -> [String: [String]] {
    let client = try client(sourceUser)
    defer { client.logout() }
    var hashes: [String: [String]] = [:]
    for folder in folders {
      if folder != "INBOX" { try client.create(MailboxName(folder), separator: "/") }
      let messages = (1...count).map { number in
        Array(
          ("From: sender@example.org\r\nSubject: \(folder) \(number)\r\n"
            + "Message-ID: <throttle-\(folder)-\(number)-\(UUID().uuidString)@example.org>\r\n\r\n"
            + String(repeating: "line \(number) of the body\r\n", count: 20)).utf8)
      }
      try client.append(messages.map { MessageToStore(bytes: $0) }, to: MailboxName(folder))
      hashes[folder] = messages.map { ContentHasher.hash($0).hex }.sorted()
    }
    return hashes
  }

  /// Hashes of what `user` holds in `folder`, sorted.
  func hashes(of user: DovecotServer.User, in folder: String) throws -> [String] {
    let client = try client(user)
    defer { client.logout() }
    try client.select(MailboxName(folder), readOnly: true)
    let uids = try client.uidSearch(.all)
    return uids.isEmpty ? [] : try client.fetchMessages(uids).map { ContentHasher.hash($0.bytes).hex }.sorted()
  }

  func imapURL(_ user: DovecotServer.User, port: Int) -> String { "imap://\(user.name)@localhost:\(port)" }

  var common: [String] {
    [
      "--allow-plaintext", "--no-compress", "--source-password-file", "\(directory)/source.pw",
      "--target-password-file", "\(directory)/target.pw", "--state", "\(directory)/state.sqlite", "--batch", "5",
    ]
  }

  /// "waited: N throttling pauses, …" with N > 0.
  static func throttlingPauses(in run: CapturedRun) -> Int {
    let text = run.err + run.out
    guard let range = text.range(of: "waited: ") else { return 0 }
    return Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
  }

  @Test func imapTargetThatThrottlesAppendsAndSelectsEndsExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = try fill(20, folders: ["INBOX", "Projects"])
    let proxy = try ThrottlingProxy(
      upstreamPort: server.imapPort, dialect: .imap,
      schedules: [
        ThrottleSchedule(verbs: ["APPEND"], every: 2, times: 6, answer: .imapThrottled),
        ThrottleSchedule(verbs: ["SELECT"], every: 3, times: 2, answer: .imapUnavailable),
        ThrottleSchedule(verbs: ["APPEND"], every: 3, times: 1, answer: .imapBye),
      ])
    defer { proxy.stop() }
    let arguments =
      ["migrate", imapURL(sourceUser, port: server.imapPort), imapURL(targetUser, port: proxy.port)] + common
    let run = CapturedRun(arguments)
    #expect(run.status == .success, "\(run.err)")
    #expect(proxy.throttled > 3)
    #expect(Self.throttlingPauses(in: run) > 0, "\(run.err)")
    for folder in ["INBOX", "Projects"] {
      #expect(try hashes(of: targetUser, in: folder) == source[folder], "\(folder)")
    }
    proxy.setSchedules([])
    let again = CapturedRun(arguments)
    #expect(again.status == .success, "\(again.err)")
    for folder in ["INBOX", "Projects"] { #expect(try hashes(of: targetUser, in: folder) == source[folder]) }
  }

  @Test func imapSourceThatThrottlesLoginsAndFetchesAndSaysByeEndsExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = try fill(20)
    let proxy = try ThrottlingProxy(
      upstreamPort: server.imapPort, dialect: .imap,
      schedules: [
        ThrottleSchedule(verbs: ["FETCH"], every: 2, times: 5, answer: .imapThrottled),
        ThrottleSchedule(verbs: ["EXAMINE", "SELECT"], every: 2, times: 2, answer: .imapBye),
        // Microsoft 365 after too many sessions: not a wrong password.
        ThrottleSchedule(
          verbs: ["LOGIN", "AUTHENTICATE"], every: 2, times: 2,
          answer: ThrottleAnswer(line: "BAD User is authenticated but not connected.", tagged: true)),
      ])
    defer { proxy.stop() }
    let arguments =
      ["migrate", imapURL(sourceUser, port: proxy.port), imapURL(targetUser, port: server.imapPort)] + common
    let run = CapturedRun(arguments)
    #expect(run.status == .success, "\(run.err)")
    #expect(proxy.throttled >= 4)
    #expect(Self.throttlingPauses(in: run) > 0, "\(run.err)")
    #expect(try hashes(of: targetUser, in: "INBOX") == source["INBOX"])
    let again = CapturedRun(arguments)
    #expect(again.status == .success, "\(again.err)")
    #expect(try hashes(of: targetUser, in: "INBOX") == source["INBOX"])
  }

  @Test func pop3MaildropInUseAtLoginEndsExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = try fill(12)
    let proxy = try ThrottlingProxy(
      upstreamPort: server.pop3Port, dialect: .pop3,
      schedules: [ThrottleSchedule(verbs: ["PASS", "AUTH", "APOP"], every: 1, times: 3, answer: .pop3InUse)])
    defer { proxy.stop() }
    let arguments =
      ["migrate", "pop3://\(sourceUser.name)@localhost:\(proxy.port)", imapURL(targetUser, port: server.imapPort)]
      + common
    let run = CapturedRun(arguments)
    #expect(run.status == .success, "\(run.err)")
    #expect(proxy.throttled == 3)
    #expect(Self.throttlingPauses(in: run) > 0, "\(run.err)")
    #expect(try hashes(of: targetUser, in: "INBOX") == source["INBOX"])
    let again = CapturedRun(arguments)
    #expect(again.status == .success, "\(again.err)")
    #expect(try hashes(of: targetUser, in: "INBOX") == source["INBOX"])
  }

  @Test func throttledForEverStopsWithExit75AndALaterRunFinishes() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = try fill(20)
    // Two batches of five go in; every APPEND after them is throttled.
    let proxy = try ThrottlingProxy(
      upstreamPort: server.imapPort, dialect: .imap,
      schedules: [ThrottleSchedule(verbs: ["APPEND"], after: 2, answer: .imapThrottled)])
    defer { proxy.stop() }
    let throttled = CapturedRun(
      [
        "migrate", imapURL(sourceUser, port: server.imapPort), imapURL(targetUser, port: proxy.port), "--max-wait",
        "20",
      ]
        + common)
    #expect(throttled.status == .temporary, "\(throttled.err)")
    #expect(throttled.err.contains("the servers kept throttling the job"), "\(throttled.err)")
    #expect(throttled.err.contains("run the same command again later"), "\(throttled.err)")
    #expect(Self.throttlingPauses(in: throttled) > 0, "\(throttled.err)")
    #expect(try hashes(of: targetUser, in: "INBOX").count == 10)

    proxy.setSchedules([])
    let later = CapturedRun(
      ["migrate", imapURL(sourceUser, port: server.imapPort), imapURL(targetUser, port: proxy.port)] + common)
    #expect(later.status == .success, "\(later.err)")
    #expect(try hashes(of: targetUser, in: "INBOX") == source["INBOX"])
  }

  @Test func maxRateHoldsTheJobBackAndTheReportSaysHowLong() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = try fill(15)
    // Five messages a second, batches of five: the second and third batch wait.
    let run = CapturedRun(
      ["migrate", imapURL(sourceUser, port: server.imapPort), imapURL(targetUser, port: server.imapPort)] + common
        + ["--max-rate", "5/s", "--json"])
    #expect(run.status == .success, "\(run.err)")
    let objects = run.out.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    let report = try #require(objects.last { $0["event"] as? String == "report" })
    #expect((report["rate_limit_wait_seconds"] as? Double ?? 0) > 0, "\(report)")
    #expect(report["throttle_pauses"] as? Int == 0)
    #expect(try hashes(of: targetUser, in: "INBOX") == source["INBOX"])
  }
}
