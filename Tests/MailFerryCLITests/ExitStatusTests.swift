import Foundation
import MailCore
import ServerFixtures
import Testing

@testable import MailFerryCLI

/// The exit statuses a cron wrapper or a scheduler acts on (docs/cli.md, "Exit status"):
/// each kind of failure, caused for real against the test Dovecot and local files.
@Suite struct ExitStatusTests {
  let server: DovecotServer
  let source: DovecotServer.User
  let target: DovecotServer.User
  let directory: String

  init() throws {
    server = try DovecotServer.shared()
    source = try server.createUser("exsrc")
    target = try server.createUser("exdst")
    directory = NSTemporaryDirectory() + "mailferry-exit-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (name, password) in [("source", source.password), ("target", target.password), ("wrong", "not-it")] {
      try Data(password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
      chmod("\(directory)/\(name).pw", 0o600)
    }
    try ServerAccount(server, source).fill([
      ("INBOX", nil, (1...3).map { MessageToStore(bytes: Array("Subject: \($0)\r\n\r\nbody \($0)\r\n".utf8)) })
    ])
  }

  func url(_ user: DovecotServer.User, port: Int? = nil) -> String {
    "imaps://\(user.name)@localhost:\(port ?? server.imapsPort)"
  }

  func migrate(sourcePassword: String = "source", sourcePort: Int? = nil, _ extra: [String] = []) -> CapturedRun {
    CapturedRun(
      [
        "migrate", url(source, port: sourcePort), url(target), "--ca-file", server.caFile,
        "--source-password-file", "\(directory)/\(sourcePassword).pw",
        "--target-password-file", "\(directory)/target.pw", "--state", "\(directory)/state.sqlite",
      ] + extra)
  }

  @Test func eachKindOfFailureHasItsStatus() {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(ExitCode(FailureKind.credentials) == .noPermission)
    #expect(ExitCode(FailureKind.serverUnavailable) == .unavailable)
    #expect(ExitCode(FailureKind.localIO) == .ioError)
    #expect(ExitCode(FailureKind.configuration) == .configuration)
    #expect(ExitCode(FailureKind.inputData) == .dataError)
    #expect(ExitCode(FailureKind.tryLater) == .temporary)
    #expect(ExitCode(FailureKind.other) == .partial)
    #expect(ExitCode(stoppedBy: POSIXError(.ENOSPC)) == .ioError)
    #expect(ExitCode.allCases.map(\.rawValue).sorted() == [0, 1, 64, 65, 69, 74, 75, 77, 78, 130])
  }

  @Test func aBatchHasItsWorstStatus() {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(ExitCode.worst([]) == .success)
    #expect(ExitCode.worst([.success, .partial, .success]) == .partial)
    #expect(ExitCode.worst([.temporary, .partial]) == .temporary)
    #expect(ExitCode.worst([.partial, .noPermission, .unavailable, .temporary]) == .noPermission)
    #expect(ExitCode.worst([.noPermission, .interrupted]) == .interrupted)
    #expect(Set(ExitCode.allCases.map(\.severity)).count == ExitCode.allCases.count, "a strict order")
  }

  @Test func theHelpListsEveryStatus() {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let help = CapturedRun(["--help"]).out
    for code in ExitCode.allCases {
      #expect(help.contains("\n  \(code.rawValue) "), "status \(code.rawValue) missing from --help")
    }
  }

  @Test func aWrongPasswordIs77AndNothingMoves() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = migrate(sourcePassword: "wrong")
    #expect(run.status == .noPermission, "\(run.err)")
    #expect(run.err.contains("login as \(source.name) failed"), "\(run.err)")
    #expect(try ServerAccount(server, target).contents().values.joined().isEmpty)
  }

  @Test func anUnreachablePortIs69() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let port = try FreePorts.allocate(1)[0]
    let run = migrate(sourcePort: port)
    #expect(run.status == .unavailable, "\(run.err)")
    #expect(
      run.err.contains("127.0.0.1:\(port): connection refused") || run.err.contains(":\(port): connection refused"))
  }

  @Test func aMissingPasswordIs78() {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = CapturedRun(
      ["migrate", url(source), url(target), "--ca-file", server.caFile, "--state", "\(directory)/state.sqlite"])
    if ProcessInfo.processInfo.environment["MAILFERRY_SOURCE_PASSWORD"] == nil {
      #expect(run.status == .configuration, "\(run.err)")
      #expect(run.err.contains("was not given"), "\(run.err)")
    }
  }

  @Test func inputThatIsNotMailIs65() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let notMbox = "\(directory)/notes.txt"
    try Data("just some notes\n".utf8).write(to: URL(fileURLWithPath: notMbox))
    let run = CapturedRun(["migrate", "mbox:\(notMbox)", "maildir:\(directory)/out", "--state", "\(directory)/s2"])
    #expect(run.status == .dataError, "\(run.err)")
    #expect(run.err.contains("not an mbox file"), "\(run.err)")
  }

  /// Two processes of the built binary: while the first holds the job's lock (its OAuth2
  /// token command is slow, so it waits inside its login), the second stops at once with
  /// 75; the first then finishes the job.
  @Test func aSecondRunOfTheSameJobIs75() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent(".build/debug/mailferry").path
    let tokenFile = "\(directory)/token"
    try Data(try server.oauthToken(for: source.name).utf8).write(to: URL(fileURLWithPath: tokenFile))
    let state = "\(directory)/state.sqlite"
    let first = Process()
    first.executableURL = URL(fileURLWithPath: binary)
    first.arguments = [
      "migrate", url(source), url(target), "--ca-file", server.caFile,
      "--source-oauth-token-command", "sleep 3; cat '\(tokenFile)'",
      "--target-password-file", "\(directory)/target.pw", "--state", state, "--quiet",
    ]
    first.environment = ProcessInfo.processInfo.environment
    try first.run()
    // The lock file is created just before it is locked, and the holder's line written
    // once it is: wait for the line, before the first run logs in.
    let deadline = Date().addingTimeInterval(20)
    while (try? Data(contentsOf: URL(fileURLWithPath: state + ".lock")))?.isEmpty ?? true, Date() < deadline {
      usleep(20_000)
    }
    let second = migrate()
    first.waitUntilExit()
    #expect(second.status == .temporary, "\(second.err)")
    #expect(second.err.contains("is held by another MailFerry run (pid \(first.processIdentifier)"), "\(second.err)")
    #expect(first.terminationStatus == 0)
    #expect(try ServerAccount(server, target).contents()["INBOX"]?.count == 3)
  }
}
