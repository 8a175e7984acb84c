import Foundation
import Testing

@testable import MailFerryCLI

/// Runs the command-line library in process and captures what it prints.
struct CapturedRun {
  let status: ExitCode
  let out: String
  let err: String

  /// Jobs without `--state` keep their state under $XDG_STATE_HOME: for tests, a directory
  /// of this test process, never the user's own (`scripts/run-tests` sets it for every
  /// process; this covers `swift test` run directly).
  static let privateStateHome: Void = {
    let home = ProcessInfo.processInfo.environment["XDG_STATE_HOME"] ?? ""
    if home.isEmpty || !home.hasPrefix(NSTemporaryDirectory()) {
      setenv("XDG_STATE_HOME", NSTemporaryDirectory() + "mailferry-test-state-\(getpid())", 1)
    }
  }()

  init(_ arguments: [String]) {
    Self.privateStateHome
    final class Buffer: @unchecked Sendable { var text = "" }
    let out = Buffer()
    let err = Buffer()
    let console = Console(out: { out.text += $0 }, err: { err.text += $0 }, isTerminal: false)
    status = MailFerryCommandLine.run(arguments, console: console)
    self.out = out.text
    self.err = err.text
  }
}

@Suite struct CommandLineTests {
  @Test func helpListsUsageAndOptions() {
    let run = CapturedRun(["--help"])
    #expect(run.status == .success)
    #expect(run.out.contains("USAGE: mailferry <command>"))
    #expect(run.out.contains("--version"))
    #expect(CapturedRun([]).out == run.out)
  }

  @Test func testJobsKeepTheirStateOutOfTheUsersHome() throws {
    _ = CapturedRun(["--version"])
    let path = try MigrateCommand.defaultStatePath(
      source: try JobEndpoint.parse("imaps://a@example.org"), target: try JobEndpoint.parse("imaps://b@example.org"))
    #expect(path.hasPrefix(NSTemporaryDirectory()), "\(path)")
  }

  @Test func versionPrintsTheVersion() {
    let run = CapturedRun(["--version"])
    #expect(run.out == "mailferry \(MailFerryCommandLine.version)\n")
    #expect(CapturedRun(["-V"]).out == run.out)
  }

  @Test func helpNeverCutsOrOverrunsAnOptionName() {
    for command in MailFerryCommandLine.commands {
      let help = CapturedRun([command.spec.name, "--help"]).out
      for option in command.spec.options {
        #expect(help.contains("--\(option.name)"), "\(command.spec.name): --\(option.name) is cut")
      }
      let table = help.components(separatedBy: "\nARGUMENTS:\n").last ?? ""
      for line in table.split(separator: "\n") {
        #expect(line.count <= HelpText.width || !line.contains(" "), "\(command.spec.name): \(line)")
        // A description never starts left of its column (no name runs into it).
        if line.hasPrefix("  -"),
          let gap = line.range(of: "  ", range: line.index(line.startIndex, offsetBy: 2)..<line.endIndex)
        {
          #expect(line.distance(from: line.startIndex, to: gap.lowerBound) < HelpText.descriptionColumn)
        }
      }
    }
  }

  @Test func unknownCommandIsAUsageError() {
    let run = CapturedRun(["frobnicate"])
    #expect(run.status == .usage)
    #expect(run.err.contains("error: unknown command 'frobnicate'"))
    #expect(run.out.isEmpty)
  }

  static let spec = CommandSpec(
    name: "demo", summary: "A demo.", discussion: "",
    positionals: [.init(name: "URL", help: "where")],
    options: CommonOptions.connection + [.init(name: "exclude", valueName: "PATTERN", help: "skip", repeatable: true)])

  @Test func parsesOptionsFlagsAndPositionals() throws {
    let parsed = try ParsedArguments(
      ["imaps://h", "--ca-file", "ca.pem", "--insecure", "--timeout=5", "--exclude", "a", "--exclude", "b"],
      spec: Self.spec)
    #expect(parsed.positionals == ["imaps://h"])
    #expect(parsed.value("ca-file") == "ca.pem")
    #expect(parsed.flag("insecure"))
    #expect(!parsed.flag("allow-plaintext"))
    #expect(try parsed.number("timeout", default: 60, command: "demo") == 5)
    #expect(parsed.values("exclude") == ["a", "b"])
  }

  @Test func mistypedOptionGetsASuggestion() {
    #expect(throws: UsageError(command: "demo", message: "unknown option '--ca-fil'. Did you mean '--ca-file'?")) {
      _ = try ParsedArguments(["u", "--ca-fil", "x"], spec: Self.spec)
    }
  }

  @Test func badCommandLinesAreRefused() {
    #expect(throws: UsageError.self) { _ = try ParsedArguments([], spec: Self.spec) }
    #expect(throws: UsageError.self) { _ = try ParsedArguments(["u", "v"], spec: Self.spec) }
    #expect(throws: UsageError.self) { _ = try ParsedArguments(["u", "--ca-file"], spec: Self.spec) }
    #expect(throws: UsageError.self) { _ = try ParsedArguments(["u", "--insecure=yes"], spec: Self.spec) }
    #expect(throws: UsageError.self) {
      _ = try ParsedArguments(["u", "--trace", "a", "--trace", "b"], spec: Self.spec)
    }
    #expect(throws: UsageError.self) { _ = try ParsedArguments(["u", "-x"], spec: Self.spec) }
    #expect(throws: UsageError.self) {
      _ = try ParsedArguments(["u", "--timeout", "soon"], spec: Self.spec).number(
        "timeout", default: 1, command: "demo")
    }
  }

  @Test func doubleDashEndsOptions() throws {
    let parsed = try ParsedArguments(["--", "--odd-url"], spec: Self.spec)
    #expect(parsed.positionals == ["--odd-url"])
  }
}
