import Engine

/// `mailferry backup SOURCE DIR`: an incremental, deduplicated, compressed copy of an
/// account in an archive directory. The same engine as migrate, with the archive as target.
struct BackupCommand: Subcommand {
  static let spec = CommandSpec(
    name: "backup", summary: "Back up an IMAP account or a POP3 maildrop into an archive directory.",
    discussion: """
      Stores every message once (gzip-compressed mboxrd, one series of files per folder) and
      indexes it in the archive's catalog with its flags, date and where it came from. Each
      run adds only what is new; a killed run continues where it stopped. The archive is
      readable without MailFerry (zcat gives mboxrd); see docs/archive-format.md.

      For cron or a systemd timer: --quiet prints nothing unless something failed, and a
      second run into the same archive while one is going stops at once with exit code 75.

      Examples:
        MAILFERRY_PASSWORD=… mailferry backup imaps://me@imap.example.org ~/mail-archive
        mailferry backup pop3s://me@pop.example.org /srv/backup/me --quiet
      """,
    positionals: [
      .init(name: "SOURCE", help: "imaps://user@host[/FOLDER], pop3s://user@host, maildir:PATH or mbox:PATH"),
      .init(name: "DIR", help: "The archive directory (created when missing or empty)."),
    ],
    options: MigrateCommand.spec.options.filter { !JobSides.isServerOption($0.name, of: "target") })

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let target = try JobEndpoint.parse(arguments.positionals[1])
    guard target.archivePath != nil else {
      throw ConfigurationError(
        what: "backup target '\(arguments.positionals[1])'", problem: "is not an archive directory",
        fix: "give a directory; to copy into a server or a local store, use 'mailferry migrate'")
    }
    let sides = try JobSides(arguments, command: Self.spec.name, console: console)
    let options = try MigrateCommand.options(arguments, sourceFolder: sides.source.folder, command: Self.spec.name)
    return try MigrateCommand.runJob(sides, options: options, arguments: arguments, console: console)
  }
}
