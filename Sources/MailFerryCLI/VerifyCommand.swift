import Checkpoint
import Engine
import Foundation
import MailCore

/// `mailferry verify SOURCE TARGET`: does the target hold every source message, once,
/// unaltered, with its flags and dates? Any two stores MailFerry reads.
struct VerifyCommand: Subcommand {
  static let spec = CommandSpec(
    name: "verify", summary: "Compare two stores folder by folder: content, flags and dates.",
    discussion: """
      Works for any two stores MailFerry reads: IMAP accounts, POP3 maildrops, archive
      directories, Maildirs and mbox files. Maps folders as migrate does (or as the job's
      state file records them), then compares the messages of each folder by the SHA-256 of
      their content (line endings normalised), copy for copy. What is left over on both
      sides is paired by Message-ID to tell a copy the target altered (with the first byte
      that differs) from one that is missing. Flags and dates are compared where both
      stores keep them. Extra messages in the target are listed but are no failure (an
      archive keeps what the account deleted). Exit code 0 when everything matches, 1 when
      something is missing, doubled, altered or unreadable, or flags or dates differ.

      Examples:
        mailferry verify imaps://alice@imap.old.example imaps://alice@imap.new.example
        mailferry verify imaps://me@imap.example.org ~/mail-archive
        mailferry verify ~/mail-archive maildir:~/Maildir
      """,
    positionals: [
      .init(name: "SOURCE", help: "imaps://…, pop3s://…, an archive DIR, maildir:PATH or mbox:PATH"),
      .init(name: "TARGET", help: "the same kinds, read as the job's target wrote it"),
    ],
    options: JobSides.options.filter {
      !SMTPSessionOptions.options.map(\.name).contains($0.name) && $0.name != "compression"
    } + [
      .init(
        name: "include", valueName: "REGEX", help: "Only folders whose name matches (repeatable).", repeatable: true),
      .init(
        name: "exclude", valueName: "REGEX", help: "Skip folders whose name matches (repeatable).", repeatable: true),
      .init(
        name: "folder-map", valueName: "OLD=NEW", help: "Source folder OLD was copied to NEW (repeatable).",
        repeatable: true),
      .init(name: "dedup", valueName: "MODE", help: "The job's dedup mode: hash (default), message-id or none."),
      .init(
        name: "gmail-labels", valueName: "MODE",
        help: "How the job copied a Gmail source's labels: folders (default), first or keywords."),
      .init(
        name: "state", valueName: "FILE",
        help: "The job's state file: its folder mapping and dedup mode (default: the job's own, if it exists)."),
      MigrateCommand.spoolDirOption,
      .init(name: "quiet", valueName: nil, help: "Print only the differences."),
    ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    var sides = try JobSides(arguments, command: Self.spec.name, console: console, targetRole: .reading)
    var options = VerificationOptions()
    let migrate = try MigrateCommand.options(arguments, sourceFolder: sides.source.folder, command: Self.spec.name)
    options.include = migrate.include
    options.exclude = migrate.exclude
    options.folderMap = migrate.folderMap
    options.dedup = migrate.dedup
    var profiled = migrate
    ProfileDefaults.apply(
      source: sides.sourceProfile, target: sides.targetProfile, to: &profiled, connectionsGiven: false,
      console: Console(out: { _ in }, err: { _ in }, isTerminal: false))
    options.naming = profiled.naming
    options.spoolPolicy.directory = migrate.spoolDirectory ?? MessageSpooler.defaultDirectory
    if sides.source.isPOP3, !sides.target.folder.isEmpty { options.folderMap["INBOX"] = sides.target.folder }

    // The job's state file: which folder went where, and the dedup mode it used.
    var recordedPlan: [(source: String, target: String)]?
    let statePath =
      try arguments.value("state") ?? MigrateCommand.defaultStatePath(source: sides.source, target: sides.target)
    let quiet = arguments.flag("quiet")
    try arguments.checkAllApply(
      to: "verify between \(sides.source.kindDescription) and \(sides.target.kindDescription)")
    try sides.connect()
    defer { sides.archiveLocks.forEach { $0.release() } }
    if arguments.value("state") != nil || FileManager.default.fileExists(atPath: statePath) {
      let store = try CheckpointStore(existingAt: statePath)
      recordedPlan = try store.folders().map { ($0.sourceName, $0.targetName) }
      let settings = try store.settings()
      if arguments.value("dedup") == nil, let mode = settings["dedup"].flatMap(MigrationOptions.Dedup.init) {
        options.dedup = mode
      }
      if arguments.value("gmail-labels") == nil, let mode = settings["gmail-labels"].flatMap(LabelMode.init) {
        options.naming.labelMode = mode
      }
      if arguments.values("folder-map").isEmpty, let map = settings["folder-map"] {
        for line in map.split(separator: "\n") {
          let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
          if parts.count == 2 { options.folderMap[parts[0]] = parts[1] }
        }
      }
      if !quiet { console.status("state: \(statePath) (folder mapping and dedup mode of the job)") }
    }
    let comparisons = try Verification(
      source: sides.connectSource, target: sides.connectTargetForReading!, options: options,
      recordedPlan: recordedPlan
    ).run()
    VerifyReport.print(comparisons, dedup: options.dedup, console: console, quiet: quiet)
    return comparisons.allSatisfy(\.matches) ? .success : .partial
  }
}

/// `verify`'s report: a table of counts per folder, then each difference on its own line.
enum VerifyReport {
  static let shownPerKind = 20

  static func print(_ comparisons: [FolderComparison], dedup: MigrationOptions.Dedup, console: Console, quiet: Bool) {
    if !quiet {
      let columns = ["SOURCE", "TARGET", "MISSING", "EXTRA", "DOUBLED", "ALTERED", "FLAGS≠", "DATES≠"]
      console.print(columns.map { $0.leftPadded(7) }.joined(separator: "  ") + "  FOLDER")
      for folder in comparisons {
        let counts = [
          folder.sourceCount, folder.targetCount, folder.missing.count, folder.extra.count, folder.doubled.count,
          folder.altered.count, folder.flagDifferences.count, folder.dateDifferences.count,
        ]
        console.print(
          counts.map { String($0).leftPadded(7) }.joined(separator: "  ") + "  " + folder.source
            + (folder.source == folder.target ? "" : " → \(folder.target)"))
      }
      console.status("compared by content (SHA-256), copy for copy; dedup mode \(dedup.rawValue)")
    }
    for folder in comparisons {
      if let error = folder.error {
        console.error("\(folder.source): \(error.description)")
        continue
      }
      if !folder.missing.isEmpty {
        console.error("\(folder.source): \(folder.missing.count) message(s) missing in \(folder.target)")
        show(folder.missing.map { "missing: \($0)" }, folder: folder, console: console)
      }
      if !folder.doubled.isEmpty {
        console.error("\(folder.source): \(folder.doubled.count) message(s) doubled in \(folder.target)")
        show(folder.doubled.map { "doubled: \($0)" }, folder: folder, console: console)
      }
      for altered in folder.altered.prefix(shownPerKind) {
        console.error(
          "\(folder.source): \(altered.source) was altered in \(folder.target) (key \(altered.targetKey), "
            + "\(altered.targetSize) bytes)" + (altered.difference.map { ": first difference at \($0)" } ?? ""))
      }
      for problem in folder.unreadable.prefix(shownPerKind) { console.error(problem) }
      show(
        folder.flagDifferences.map { "flags differ: \($0.source): \($0.sourceValue) → \($0.targetValue)" },
        folder: folder, console: console, asError: true)
      show(
        folder.dateDifferences.map { "date differs: \($0.source): \($0.sourceValue) → \($0.targetValue)" },
        folder: folder, console: console, asError: true)
      if !quiet {
        show(folder.extra.map { "extra in the target: \($0)" }, folder: folder, console: console, asError: false)
      }
      if folder.skippedByMessageID > 0 && !quiet {
        console.status(
          "note: \(folder.source): \(folder.skippedByMessageID) message(s) not copied on purpose: the target holds "
            + "their Message-ID (--dedup message-id)")
      }
    }
    if !comparisons.allSatisfy(\.matches) {
      let missing = comparisons.contains { !$0.missing.isEmpty || $0.error != nil }
      console.hint(
        missing
          ? "run the job again to copy what is missing; altered or doubled copies need a look at the target"
          : "the differences above are in what the target holds; running the job again does not change them")
    }
  }

  private static func show(_ lines: [String], folder: FolderComparison, console: Console, asError: Bool = true) {
    for line in lines.prefix(shownPerKind) {
      if asError { console.error("\(folder.source): \(line)") } else { console.status("\(folder.source): \(line)") }
    }
    if lines.count > shownPerKind {
      console.status("\(folder.source): … and \(lines.count - shownPerKind) more")
    }
  }
}
