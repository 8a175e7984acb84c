import Archive
import Engine
import Foundation

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
    options: MigrateCommand.spec.options.filter {
      !JobSides.isServerOption($0.name, of: "source")
        && !["delete-source", "keep-days", "compression", "gmail-labels"].contains($0.name)
    }
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
    let sides = try JobSides(arguments, command: Self.spec.name, console: console)
    var options = try MigrateCommand.options(arguments, sourceFolder: "", command: Self.spec.name)
    let archive = try Archive(path: path, create: false)
    let names = try Self.include(arguments.values("folder"), of: archive, in: &options)
    if let destination = arguments.value("to-folder") {
      for name in names { options.folderMap[name] = destination }
    }
    return try MigrateCommand.runJob(sides, options: options, arguments: arguments, console: console)
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
