import Foundation
import MailCore
import Testing

@testable import MailFerryCLI

/// `CommandRunner` and `TokenCommand` on their own: what a token is taken to be, what each
/// failure says, and that a command that hangs is stopped with everything it started.
@Suite struct TokenCommandTests {
  let directory: String

  init() throws {
    directory = NSTemporaryDirectory() + "mailferry-token-command-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  func command(_ text: String, timeout: Duration = .seconds(30)) -> TokenCommand {
    TokenCommand(command: text, option: "--oauth-token-command", timeout: timeout)
  }

  func failure(_ text: String, timeout: Duration = .seconds(30)) -> TokenCommandError? {
    do {
      _ = try command(text, timeout: timeout).token()
      return nil
    } catch let error as TokenCommandError {
      return error
    } catch {
      Issue.record("unexpected \(error)")
      return nil
    }
  }

  /// True when `pid` no longer runs (gone, or a zombie nobody has reaped yet).
  static func isGone(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    guard let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(close, offsetBy: 2)] == "Z"
  }

  static func pid(in file: String) throws -> Int32 {
    try #require(Int32(String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
  }

  @Test func theTokenIsTheOutputWithoutItsLineBreak() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(try command("printf 'ya29.token-value\\r\\n'").token() == "ya29.token-value")
    #expect(try command("echo eyJ0eXAi.payload.sig").token() == "eyJ0eXAi.payload.sig")
    #expect(try command("printf 'no-newline'").token() == "no-newline")
    #expect(try command("echo token; echo 'some diagnostics' >&2").token() == "token")
  }

  @Test func everyRenewalRunsTheCommandAgain() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let counter = "\(directory)/runs"
    let source = command("echo run >> '\(counter)'; echo \"token-$(wc -l < '\(counter)')\"")
    let first = try source.renew()
    let second = try source.renew()
    #expect(first == .oauth2Token("token-1"))
    #expect(second == .oauth2Token("token-2"))
  }

  @Test func failuresNameTheOptionAndWhatWentWrongButNeverTheToken() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let failed = try #require(failure("echo 'error: invalid_grant (refresh token revoked)' >&2; exit 3"))
    #expect(failed.problem == .exited(3))
    #expect(
      failed.description == "--oauth-token-command failed (exit status 3): error: invalid_grant (refresh token revoked)"
    )
    #expect(!failed.isTemporary && failed.scope == .job)

    let empty = try #require(failure("printf '\\n'"))
    #expect(empty.problem == .printedNothing)
    #expect(empty.description == "--oauth-token-command printed no token")
    #expect(empty.hint?.contains("only the access token") == true)

    let lines = try #require(failure("echo '{'; echo '\"access_token\": \"x\"'; echo '}'"))
    #expect(lines.problem == .printedSeveralLines)

    let leaked = try #require(failure("echo secret-token-4711; echo 'cannot use secret-token-4711' >&2; exit 1"))
    #expect(!leaked.description.contains("secret-token-4711"))
    #expect(leaked.description.contains("cannot use <redacted>"))

    let killed = try #require(failure("kill -9 $$"))
    #expect(killed.problem == .killed(9))

    let missing = try #require(failure("/nonexistent/token-helper"))
    #expect(missing.problem == .exited(127))
    #expect(missing.description.contains("not found"))
  }

  @Test func aCommandThatHangsIsStoppedWithEverythingItStarted() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let script = "echo $$ > '\(directory)/shell'; sleep 600 & echo $! > '\(directory)/child'; echo waiting >&2; wait"
    let error = try #require(failure(script, timeout: .milliseconds(700)))
    #expect(error.problem == .timedOut(seconds: 0.7))
    #expect(error.description == "--oauth-token-command gave no token within 0.7 s and was stopped: waiting")
    #expect(error.isTemporary)
    let shell = try Self.pid(in: "\(directory)/shell")
    let child = try Self.pid(in: "\(directory)/child")
    // The group was killed before run() returned; the orphaned child may take a moment to
    // be reaped by init, so look for a while.
    for _ in 0..<100 where !(Self.isGone(shell) && Self.isGone(child)) { usleep(20_000) }
    #expect(Self.isGone(shell), "the shell still runs")
    #expect(Self.isGone(child), "the sleep it started still runs")
  }

  @Test func aChildLeftInTheBackgroundDoesNotHoldTheTokenBack() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    // The background sleep keeps the output pipe open; the token is taken when the command
    // itself exits (a 30 s timeout would fail the test long before the sleep ends).
    let token = try command("sleep 600 & echo $! > '\(directory)/child'; echo background-token").token()
    #expect(token == "background-token")
    kill(try Self.pid(in: "\(directory)/child"), SIGKILL)
  }

  @Test func theRunnerReportsStatusAndBothStreams() throws {
    let outcome = try CommandRunner.run("printf out; printf err >&2; exit 5", timeout: .seconds(30))
    #expect(outcome.ending == .exited(5))
    #expect(outcome.stdout == Array("out".utf8))
    #expect(outcome.stderr == Array("err".utf8))
    // Standard input is /dev/null: a command that reads it gets end of file, not a hang.
    #expect(try CommandRunner.run("cat; echo done", timeout: .seconds(30)).stdout == Array("done\n".utf8))
  }
}
