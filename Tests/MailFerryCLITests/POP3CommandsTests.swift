import Foundation
import MailCore
import POP3Endpoint
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// `probe` and `migrate` with a POP3 maildrop, in process.
@Suite struct POP3CommandsTests {
  let server: DovecotServer
  let targetServer: DovecotServer
  let user: DovecotServer.User
  let targetUser: DovecotServer.User
  let directory: String

  init() throws {
    server = try DovecotServer.shared()
    targetServer = try DovecotServer.shared("exchange-like")
    user = try server.createUser("clipop")
    targetUser = try targetServer.createUser("clipopdst")
    directory = NSTemporaryDirectory() + "mailferry-pop3-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (name, password) in [("source", user.password), ("target", targetUser.password), ("wrong", "nope")] {
      try Data(password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
      chmod("\(directory)/\(name).pw", 0o600)
    }
  }

  var pop3s: String { "pop3s://\(user.name)@localhost:\(server.pop3sPort)" }
  var imaps: String { "imaps://\(targetUser.name)@localhost:\(targetServer.imapsPort)" }
  var migrateOptions: [String] {
    [
      "--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw",
      "--source-ca-file", server.caFile, "--target-ca-file", targetServer.caFile, "--state", "\(directory)/s.sqlite",
    ]
  }

  func deliver(_ count: Int) throws {
    for number in 1...count {
      try server.deliver(
        Array("From: a@example.org\r\nSubject: cli \(number)\r\nMessage-ID: <cli-\(number)@x>\r\n\r\nbody\r\n".utf8),
        to: user.name)
    }
  }

  @Test func probeShowsTLSCapabilitiesLoginAndTheMaildrop() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try deliver(2)
    let run = CapturedRun(["probe", pop3s, "--ca-file", server.caFile, "--password-file", "\(directory)/source.pw"])
    #expect(run.status == .success, "\(run.err)")
    #expect(run.out.contains("Verified:      yes"))
    #expect(run.out.contains("Login:         OK as \(user.name) (AUTH PLAIN)"))
    #expect(run.out.contains("Maildrop:      2 message(s)"))
    #expect(run.out.contains("UIDL:          yes"))

    let stls = CapturedRun(
      [
        "probe", "pop://\(user.name)@localhost:\(server.pop3Port)", "--ca-file", server.caFile, "--password-file",
        "\(directory)/source.pw", "--login-method", "user",
      ])
    #expect(stls.status == .success, "\(stls.err)")
    #expect(stls.out.contains("(STLS)"))
    #expect(stls.out.contains("(USER/PASS)"))

    let wrong = CapturedRun(["probe", pop3s, "--ca-file", server.caFile, "--password-file", "\(directory)/wrong.pw"])
    #expect(wrong.status == .noPermission)
    #expect(wrong.out.contains("Login:         FAILED"))
    #expect(wrong.err.contains("login as \(user.name) failed"))

    let badMethod = CapturedRun(["probe", pop3s, "--ca-file", server.caFile, "--login-method", "login"])
    #expect(badMethod.status == .usage)
    let folder = CapturedRun(["probe", pop3s + "/INBOX", "--ca-file", server.caFile])
    #expect(folder.status == .configuration)
    #expect(folder.err.contains("a POP3 maildrop has none"))
  }

  @Test func migrateIntoAFolderOfTheTargetThenKeepDaysZeroEmptiesTheMaildrop() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try deliver(5)
    let run = CapturedRun(["migrate", pop3s, imaps + "/Old POP"] + migrateOptions)
    #expect(run.status == .success, "\(run.err)")
    #expect(run.out.contains("INBOX → Old POP"))
    // The maildrop against the folder it went to: all five there, once.
    let verified = CapturedRun(["verify", pop3s, imaps + "/Old POP"] + migrateOptions.dropLast(2))
    #expect(verified.status == .success, "\(verified.err)")
    #expect(
      verified.out.contains("      5        5        0        0        0        0        0        0  INBOX → Old POP"))
    let again = CapturedRun(["migrate", pop3s, imaps + "/Old POP", "--keep-days", "0", "--json"] + migrateOptions)
    #expect(again.status == .success, "\(again.err)")
    let report = try #require(again.out.split(separator: "\n").last)
    #expect(report.contains("\"deleted_from_source\":5"))
    let client = try POP3Client.connect(
      POP3Account(host: server.host, port: server.pop3sPort, user: user.name, tls: TLSOptions(caFile: server.caFile)))
    try client.login(.password(user.password))
    #expect(try client.stat().count == 0)
    client.logout()

    // Emptied: what the target holds is extra now, which is no failure.
    let verify = CapturedRun(["verify", pop3s, imaps + "/Old POP"] + migrateOptions.dropLast(2))
    #expect(verify.status == .success, "\(verify.err)")
    #expect(verify.err.contains("INBOX: extra in the target"), "\(verify.err)")
  }
}
