import Foundation
import MailCore

/// `--oauth-token-command CMD` (or a side's own): CMD is run for every login, and once more
/// after the server refuses a token, and what it prints is the OAuth2 access token.
///
/// Access tokens expire (Google and Microsoft: after about an hour), so a token is never
/// kept for the next connection; a command that caches tokens itself (`oauth2l`) stays
/// cheap. The token is never printed: errors name the option, not the command line (which
/// may hold a client secret) nor the output.
struct TokenCommand: RenewableCredential {
  static let defaultTimeout: Duration = .seconds(60)

  let command: String
  /// The option it came from, `--source-oauth-token-command`: named in every error.
  let option: String
  let timeout: Duration

  var origin: String { option }

  func renew() throws -> Credential { .oauth2Token(try token()) }

  /// Runs the command and returns its output without the trailing line break.
  func token() throws -> String {
    let outcome: CommandRunner.Outcome
    do {
      outcome = try CommandRunner.run(command, timeout: timeout)
    } catch CommandRunner.Failure.couldNotStart(let reason) {
      throw TokenCommandError(option: option, problem: .couldNotStart(reason))
    } catch CommandRunner.Failure.timedOut(let stderr) {
      throw TokenCommandError(
        option: option, problem: .timedOut(seconds: timeout / .seconds(1)), stderr: Self.lastLine(stderr))
    }
    var output = outcome.stdout
    while let last = output.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { output.removeLast() }
    let token = String(decoding: output, as: UTF8.self)
    let stderr = Self.lastLine(outcome.stderr, hiding: token)
    switch outcome.ending {
    case .exited(0): break
    case .exited(let status): throw TokenCommandError(option: option, problem: .exited(status), stderr: stderr)
    case .killedBySignal(let signal):
      throw TokenCommandError(option: option, problem: .killed(signal), stderr: stderr)
    }
    guard !token.isEmpty else { throw TokenCommandError(option: option, problem: .printedNothing, stderr: stderr) }
    guard !output.contains(UInt8(ascii: "\n")) && !output.contains(UInt8(ascii: "\r")) else {
      throw TokenCommandError(option: option, problem: .printedSeveralLines, stderr: stderr)
    }
    return token
  }

  /// The last non-empty line of standard error, shortened, for the error message; never
  /// anything that looks like the token.
  static func lastLine(_ bytes: [UInt8], hiding token: String = "") -> String {
    let text = String(decoding: bytes, as: UTF8.self)
    guard
      var line = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
        .last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        .map({ $0.trimmingCharacters(in: .whitespaces) })
    else { return "" }
    if token.count >= 8 { line = line.replacingOccurrences(of: token, with: "<redacted>") }
    return line.count > 200 ? String(line.prefix(200)) + "…" : line
  }
}

/// A token command that gave no token.
struct TokenCommandError: UserFacingError, Equatable {
  enum Problem: Equatable {
    case couldNotStart(String)
    case timedOut(seconds: Double)
    case exited(Int32)
    case killed(Int32)
    case printedNothing
    case printedSeveralLines
  }

  let option: String
  let problem: Problem
  /// The last line the command wrote to standard error, if any.
  var stderr = ""

  var description: String {
    let what: String
    switch problem {
    case .couldNotStart(let reason): what = "could not be started: \(reason)"
    case .timedOut(let seconds):
      let shown = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
      what = "gave no token within \(shown) s and was stopped"
    case .exited(let status): what = "failed (exit status \(status))"
    case .killed(let signal): what = "was killed by signal \(signal)"
    case .printedNothing: what = "printed no token"
    case .printedSeveralLines: what = "printed more than one line"
    }
    return "\(option) \(what)" + (stderr.isEmpty ? "" : ": \(stderr)")
  }

  var hint: String? {
    switch problem {
    case .couldNotStart: return "check that /bin/sh can run here"
    case .timedOut:
      return "run the command yourself: it must print a token without asking anything (MailFerry runs no "
        + "browser flow); a slow token service can be given longer with --oauth-token-timeout SECONDS"
    case .exited, .killed:
      return "run the command yourself to see why; docs/oauth2.md shows commands that work"
    case .printedNothing, .printedSeveralLines:
      return "the command must print only the access token, on one line, to standard output"
    }
  }

  var scope: FailureScope { .job }
  /// A token service that did not answer in time may answer later; a command that fails or
  /// prints the wrong thing needs the user.
  var isTemporary: Bool {
    if case .timedOut = problem { return true }
    return false
  }

  /// A token command that fails needs its configuration looked at; one that is slow may
  /// answer later.
  var kind: FailureKind { isTemporary ? .tryLater : .configuration }
}
