import Engine

/// `mailferry import maildir:PATH|mbox:PATH DIR`: local mail into an archive.
struct ImportCommand: Subcommand {
  static let spec = CommandSpec(
    name: "import", summary: "Add a local Maildir or mbox files to an archive directory.",
    discussion: """
      Reads a Maildir (as Dovecot, mbsync, getmail and mutt write it) or an mbox file or
      directory of mbox files (as Thunderbird and mutt keep them), and stores it in the
      archive like a backup: flags and dates kept, every message once, a second run adds
      only what is new. A single mbox file becomes the folder INBOX; --folder-map renames it.

      Examples:
        mailferry import maildir:~/Maildir ~/mail-archive
        mailferry import mbox:~/old/Projects.mbox ~/mail-archive --folder-map INBOX=Projects
      """,
    positionals: [
      .init(name: "SOURCE", help: "maildir:PATH or mbox:PATH"),
      .init(name: "DIR", help: "The archive directory (created when missing or empty)."),
    ],
    options: MigrateCommand.spec.options.filter {
      [
        "include", "exclude", "folder-map", "since", "before",
        "max-size", "spool-dir", "dedup", "batch", "state", "dry-run", "json", "quiet", "compression", "log",
        "report",
      ].contains($0.name)
    })

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    guard case .local = try JobEndpoint.parse(arguments.positionals[0]),
      case .archive = try JobEndpoint.parse(arguments.positionals[1])
    else {
      throw UsageError(
        command: Self.spec.name, message: "import reads maildir:PATH or mbox:PATH into an archive directory")
    }
    let sides = try JobSides(arguments, command: Self.spec.name, console: console)
    let options = try MigrateCommand.options(arguments, sourceFolder: "", command: Self.spec.name)
    return try MigrateCommand.runJob(sides, options: options, arguments: arguments, console: console)
  }
}
