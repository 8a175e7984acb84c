import Foundation
import Testing

@testable import MailFerryCLI

/// No secret MailFerry was given in its environment reaches a command it starts.
@Suite struct ChildEnvironmentTests {
  /// Variables only this test sets (so other tests running meanwhile see nothing new).
  static let secrets = [
    "MAILFERRY_PASSWORD_CHILDTEST", "MAILFERRY_SOURCE_PASSWORD_CHILDTEST", "MAILFERRY_CHILDTEST_TARGET_PASSWORD",
    "MAILFERRY_CHILDTEST_TOKEN",
  ]

  /// Set once for the process: `setenv` while other tests' threads read the environment
  /// is best done as rarely as possible.
  static let prepared: Void = {
    for name in secrets { setenv(name, "s3cret-\(name)", 1) }
    setenv("MAILFERRY_CHILDTEST_HARMLESS", "kept", 1)
  }()

  init() { Self.prepared }

  func mailFerryLines(_ file: String) throws -> [String] {
    try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
      .filter { $0.contains("CHILDTEST") }
  }

  @Test func passwordCommandSeesNoPasswords() throws {
    let file = NSTemporaryDirectory() + "childenv-\(getpid())-password"
    defer { unlink(file) }
    let password = try PasswordSource.fromCommand(
      "env | grep MAILFERRY > '\(file)'; echo pw", purpose: "--target-password-command")
    #expect(password == "pw")
    #expect(try mailFerryLines(file) == ["MAILFERRY_CHILDTEST_HARMLESS=kept"])
  }

  @Test func tokenCommandSeesNoPasswords() throws {
    let file = NSTemporaryDirectory() + "childenv-\(getpid())-token"
    defer { unlink(file) }
    let outcome = try CommandRunner.run("env | grep MAILFERRY > '\(file)'; echo token", timeout: .seconds(10))
    #expect(outcome.ending == .exited(0))
    #expect(try mailFerryLines(file) == ["MAILFERRY_CHILDTEST_HARMLESS=kept"])
  }
}
