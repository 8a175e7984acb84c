import Archive
import Engine

/// `mailferry export DIR OUT --format maildir|mbox|eml`: an archive's folders as files other
/// programs read.
struct ExportCommand: Subcommand {
  static let spec = CommandSpec(
    name: "export", summary: "Write an archive's folders out as a Maildir, mbox files or .eml files.",
    discussion: """
      Every folder gets every message it held, also those the archive stores once for
      several folders. Maildir keeps flags (as info letters and dovecot-keywords) and dates
      (as file times); mbox and .eml keep the message bytes and the date, not the flags.
      Runs again add only what is new.

      Examples:
        mailferry export ~/mail-archive ~/Maildir --format maildir
        mailferry export ~/mail-archive ~/mbox --format mbox --folder INBOX
      """,
    positionals: [
      .init(name: "DIR", help: "The archive directory."),
      .init(name: "OUT", help: "The directory to write (created when missing)."),
    ],
    options: [
      .init(
        name: "format", valueName: "FORMAT", help: "maildir, mbox or eml.",
        choices: JobEndpoint.LocalKind.allCases.map(\.rawValue)),
      .init(name: "folder", valueName: "NAME", help: "Only the archive folder NAME (repeatable).", repeatable: true),
      .init(name: "since", valueName: "DATE", help: "Only messages received on or after DATE (YYYY-MM-DD)."),
      .init(name: "before", valueName: "DATE", help: "Only messages received before DATE (YYYY-MM-DD)."),
      .init(name: "state", valueName: "FILE", help: "The job's state file (default under $XDG_STATE_HOME/mailferry)."),
      MigrateCommand.spoolDirOption,
      .init(name: "json", valueName: nil, help: "Print events and the report as JSON lines on standard output."),
      .init(name: "quiet", valueName: nil, help: "Print only the report's problems."),
    ] + RunRecordOptions.options)

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    guard case .archive(let path) = try JobEndpoint.parse(arguments.positionals[0]) else {
      throw UsageError(command: Self.spec.name, message: "DIR must be an archive directory")
    }
    guard let format = arguments.value("format"), JobEndpoint.LocalKind(rawValue: format) != nil else {
      throw UsageError(command: Self.spec.name, message: "option '--format' takes maildir, mbox or eml")
    }
    let sides = try JobSides(
      arguments, command: Self.spec.name, console: console, source: path,
      target: "\(format):\(arguments.positionals[1])"
    )
    var options = try MigrateCommand.options(arguments, sourceFolder: "", command: Self.spec.name)
    _ = try RestoreCommand.include(
      arguments.values("folder"), of: try Archive(path: path, create: false), in: &options)
    return try MigrateCommand.runJob(sides, options: options, arguments: arguments, console: console)
  }
}
