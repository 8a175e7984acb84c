import Engine
import Foundation
import MailCore
import Storage

/// The `mailferry` command: dispatches to a subcommand and turns its errors into messages
/// and an exit status. The executable is a one-line call to `main`.
public enum MailFerryCommandLine {
  public static let version = "0.1.0"

  /// Runs the process's command line and exits with the status.
  public static func main() -> Never {
    AllocatorTuning.apply()
    exit(run(Array(CommandLine.arguments.dropFirst()), console: .standard()).rawValue)
  }

  static let commands: [any Subcommand.Type] = [
    ProbeCommand.self, FoldersCommand.self, PlanCommand.self, MigrateCommand.self, VerifyCommand.self,
    BackupCommand.self,
    RestoreCommand.self, ArchiveCommand.self, ExportCommand.self, ImportCommand.self, ProfilesCommand.self,
    RunCommand.self, CheckCommand.self, StatusCommand.self, BatchCommand.self, CompletionsCommand.self,
  ]

  static func run(_ arguments: [String], console: Console) -> ExitCode {
    guard let first = arguments.first, first != "--help", first != "-h", first != "help" else {
      if arguments.count == 2 && arguments[1] == "--man" {
        // The man page, for `make install`.
        console.print(ManualPage.render(commands.map { $0.spec }, version: version))
      } else if arguments.count >= 2, let command = commands.first(where: { $0.spec.name == arguments[1] }) {
        console.print(HelpText.render(command.spec, width: HelpText.terminalWidth()))
      } else {
        console.print(HelpText.overview(commands.map { $0.spec }, version: version, width: HelpText.terminalWidth()))
      }
      return .success
    }
    if first == "--version" || first == "-V" {
      console.print("mailferry \(version)")
      return .success
    }
    guard let command = commands.first(where: { $0.spec.name == first }) else {
      let suggestion = ParsedArguments.closest(to: first, among: commands.map { $0.spec.name })
      console.error("unknown command '\(first)'" + (suggestion.map { ". Did you mean '\($0)'?" } ?? ""))
      console.status("See 'mailferry --help'.")
      return .usage
    }
    let rest = Array(arguments.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
      console.print(HelpText.render(command.spec, width: HelpText.terminalWidth()))
      return .success
    }
    let logBefore = console.log
    defer { console.log = logBefore }
    do {
      return try execute(command, ParsedArguments(rest, spec: command.spec), console: console)
    } catch let error as UsageError {
      console.error(error.message)
      console.status(HelpText.usageLine(command.spec))
      console.status("See 'mailferry \(error.command) --help'.")
      return .usage
    } catch {
      report(error, console: console)
      let status = ExitCode(stoppedBy: error)
      console.log?.write(.info, "finished: exit status \(status.rawValue) (\(status.meaning))")
      return status
    }
  }
}

extension MailFerryCommandLine {
  /// Runs a parsed command, first opening its `--log` file when it has one (and writing the
  /// run's first and last lines there).
  static func execute(_ command: any Subcommand.Type, _ parsed: ParsedArguments, console: Console) throws -> ExitCode {
    if parsed.declares("log"), let path = parsed.value("log") {
      console.log = try LogFile(path: path)
      console.log?.write(.info, "mailferry \(version) \(command.spec.name) started (pid \(getpid()))")
    }
    let status = try command.init().run(parsed, console: console)
    console.log?.write(.info, "finished: exit status \(status.rawValue) (\(status.meaning))")
    return status
  }

  /// Prints `error: …` and, for errors that carry one, `hint: …`.
  static func report(_ error: any Error, console: Console) {
    if let userFacing = error as? any UserFacingError {
      console.error(userFacing.description)
      if let hint = userFacing.hint { console.hint(hint) }
    } else {
      console.error(String(describing: error))
    }
  }
}

/// One subcommand: its spec for parsing and help, and what it does.
protocol Subcommand: Sendable {
  static var spec: CommandSpec { get }
  init()
  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode
}
