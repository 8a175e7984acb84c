import Archive
import Engine
import Foundation

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
      second run into the same archive while one is going stops at once with exit code 1.

      Examples:
        MAILFERRY_PASSWORD=… mailferry backup imaps://me@imap.example.org ~/mail-archive
        mailferry backup pop3s://me@pop.example.org /srv/backup/me --quiet
      """,
    positionals: [
      .init(name: "SOURCE", help: "imaps://user@host[/FOLDER], pop3s://user@host, maildir:PATH or mbox:PATH"),
      .init(name: "DIR", help: "The archive directory (created when missing or empty)."),
    ],
    options: MigrateCommand.spec.options)

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let target = try JobEndpoint.parse(arguments.positionals[1])
    guard target.archivePath != nil else {
      throw ConfigurationError(
        what: "backup target '\(arguments.positionals[1])'", problem: "is not an archive directory",
        fix: "give a directory; to copy into a server or a local store, use 'mailferry migrate'")
    }
    let servers = try TwoServers(arguments, command: Self.spec.name, console: console)
    let options = try MigrateCommand.options(arguments, sourceFolder: servers.source.folder, command: Self.spec.name)
    return try MigrateCommand.runJob(servers, options: options, arguments: arguments, console: console)
  }
}

/// `mailferry restore DIR TARGET`: replays archived messages with their flags and dates.
struct RestoreCommand: Subcommand {
  static let spec = CommandSpec(
    name: "restore", summary: "Restore messages from an archive into an IMAP account (or by SMTP/LMTP).",
    discussion: """
      Replays the archive's folders, or only those named with --folder, with their flags and
      dates, exactly once and resumably like migrate. --since and --before pick a date range;
      --to-folder puts everything chosen into one target folder.

      Examples:
        mailferry restore ~/mail-archive imaps://me@imap.example.org --folder Projects
        mailferry restore ~/mail-archive imaps://me@imap.example.org --since 2026-10-01 \\
          --before 2026-11-01 --to-folder Restored
      """,
    positionals: [
      .init(name: "DIR", help: "The archive directory."),
      .init(name: "TARGET", help: "imaps://user@host, smtp(s)://host --rcpt ADDRESS, lmtp://host --rcpt …"),
    ],
    options: MigrateCommand.spec.options.filter { !["delete-source", "keep-days", "compression"].contains($0.name) }
      + [
        .init(
          name: "folder", valueName: "NAME", help: "Restore only the archive folder NAME (repeatable).",
          repeatable: true),
        .init(name: "to-folder", valueName: "NAME", help: "Put every restored message into the target folder NAME."),
      ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    guard case .archive(let path) = try JobEndpoint.parse(arguments.positionals[0]) else {
      throw ConfigurationError(
        what: "restore source '\(arguments.positionals[0])'", problem: "is not an archive directory",
        fix: "give the directory 'mailferry backup' wrote")
    }
    let servers = try TwoServers(arguments, command: Self.spec.name, console: console)
    var options = try MigrateCommand.options(arguments, sourceFolder: "", command: Self.spec.name)
    let archive = try Archive(path: path, create: false)
    let names = try Self.include(arguments.values("folder"), of: archive, in: &options)
    if let destination = arguments.value("to-folder") {
      for name in names { options.folderMap[name] = destination }
    }
    return try MigrateCommand.runJob(servers, options: options, arguments: arguments, console: console)
  }

  /// Limits the job to the archive folders named by `--folder` (exact names; one the archive
  /// does not have is an error). Returns every folder name of the archive.
  static func include(
    _ folders: [String], of archive: Archive, in options: inout MigrationOptions
  ) throws -> Set<
    String
  > {
    let names = Set(try archive.folders().map(\.name))
    for folder in folders {
      guard names.contains(folder) else { throw ArchiveError.noSuchFolder(name: folder) }
      options.include.append("^" + NSRegularExpression.escapedPattern(for: folder) + "$")
    }
    return names
  }
}

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
      .init(name: "format", valueName: "FORMAT", help: "maildir, mbox or eml."),
      .init(name: "folder", valueName: "NAME", help: "Only the archive folder NAME (repeatable).", repeatable: true),
      .init(name: "since", valueName: "DATE", help: "Only messages received on or after DATE (YYYY-MM-DD)."),
      .init(name: "before", valueName: "DATE", help: "Only messages received before DATE (YYYY-MM-DD)."),
      .init(name: "state", valueName: "FILE", help: "The job's state file (default under $XDG_STATE_HOME/mailferry)."),
      .init(name: "json", valueName: nil, help: "Print events and the report as JSON lines on standard output."),
      .init(name: "quiet", valueName: nil, help: "Print only the report's problems."),
    ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    guard case .archive(let path) = try JobEndpoint.parse(arguments.positionals[0]) else {
      throw UsageError(command: Self.spec.name, message: "DIR must be an archive directory")
    }
    guard let format = arguments.value("format"), JobEndpoint.LocalKind(rawValue: format) != nil else {
      throw UsageError(command: Self.spec.name, message: "option '--format' takes maildir, mbox or eml")
    }
    let servers = try TwoServers(
      arguments, command: Self.spec.name, console: console, source: path,
      target: "\(format):\(arguments.positionals[1])"
    )
    var options = try MigrateCommand.options(arguments, sourceFolder: "", command: Self.spec.name)
    _ = try RestoreCommand.include(
      arguments.values("folder"), of: try Archive(path: path, create: false), in: &options)
    return try MigrateCommand.runJob(servers, options: options, arguments: arguments, console: console)
  }
}

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
        "max-size", "dedup", "batch", "state", "dry-run", "json", "quiet", "compression",
      ].contains($0.name)
    })

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    guard case .local = try JobEndpoint.parse(arguments.positionals[0]),
      case .archive = try JobEndpoint.parse(arguments.positionals[1])
    else {
      throw UsageError(
        command: Self.spec.name, message: "import reads maildir:PATH or mbox:PATH into an archive directory")
    }
    let servers = try TwoServers(arguments, command: Self.spec.name, console: console)
    let options = try MigrateCommand.options(arguments, sourceFolder: "", command: Self.spec.name)
    return try MigrateCommand.runJob(servers, options: options, arguments: arguments, console: console)
  }
}
