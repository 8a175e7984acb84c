import Engine
import Foundation
import MailCore
import POP3Endpoint
import Storage
import Transport

/// `mailferry migrate SOURCE TARGET`: copies an account, exactly once, resumable.
struct MigrateCommand: Subcommand {
  static let spec = CommandSpec(
    name: "migrate",
    summary: "Copy an IMAP account, a POP3 maildrop or a local store to an IMAP account (or SMTP/LMTP, a local store).",
    discussion: """
      Copies messages with their flags and dates, creates folders (special-use folders such as
      Sent go to the target's own), and records its progress in a state file, so a killed run
      continues where it stopped and a second run copies only what is new.

      Examples:
        MAILFERRY_SOURCE_PASSWORD=… MAILFERRY_TARGET_PASSWORD=… \\
          mailferry migrate imaps://alice%40old.example@imap.old.example imaps://alice@imap.new.example
        mailferry migrate imaps://a@src/Projects imaps://b@dst --dry-run
        mailferry migrate pop3s://me@pop.example imaps://me@imap.example/Old-POP --keep-days 7
      """,
    positionals: [
      .init(
        name: "SOURCE",
        help:
          "imaps://user@host[:port][/FOLDER] (a folder limits the job to it), pop3s://user@host[:port], "
          + "maildir:PATH, mbox:PATH or an archive DIR"),
      .init(
        name: "TARGET",
        help:
          "imaps://user@host[:port][/FOLDER] (the folder a POP3 source goes to; INBOX), smtp(s)://, lmtp://, "
          + "maildir:PATH, mbox:PATH, eml:PATH or an archive DIR"),
    ],
    options: JobSides.options + [
      .init(
        name: "include", valueName: "REGEX", help: "Only folders whose name matches (repeatable).", repeatable: true),
      .init(
        name: "exclude", valueName: "REGEX", help: "Skip folders whose name matches (repeatable).", repeatable: true),
      .init(
        name: "folder-map", valueName: "OLD=NEW|s/RE/NEW/",
        help: "Put source folder OLD into target folder NEW, or rename by a rule (repeatable).", repeatable: true),
      .init(
        name: "folder-map-file", valueName: "FILE", help: "--folder-map lines from FILE (# starts a comment)."),
      .init(name: "since", valueName: "DATE", help: "Only messages received on or after DATE (YYYY-MM-DD, UTC)."),
      .init(name: "before", valueName: "DATE", help: "Only messages received before DATE (YYYY-MM-DD, UTC)."),
      .init(name: "max-size", valueName: "BYTES", help: "Skip messages larger than BYTES."),
      spoolDirOption,
      .init(
        name: "dedup", valueName: "MODE", help: "hash (default), message-id or none.",
        choices: ["hash", "message-id", "none"]),
      .init(
        name: "gmail-labels", valueName: "MODE",
        help:
          "A Gmail source's labels: folders (a copy per label folder, default), first (one copy, in its first "
          + "label) or keywords (one copy, its labels as keywords).",
        choices: ["folders", "first", "keywords"]),
      .init(
        name: "connections", valueName: "N",
        help:
          "Folders copied in parallel, one connection pair each (default 4, fewer where a provider profile limits it)."),
      .init(
        name: "batch", valueName: "N",
        help: "Messages per fetch and append batch, and per checkpoint commit (default 50)."),
      .init(name: "state", valueName: "FILE", help: "The job's state file (default under $XDG_STATE_HOME/mailferry)."),
      .init(name: "sync-flags", valueName: nil, help: "Also carry flag changes made in the source since the last run."),
      .init(
        name: "verify", valueName: nil,
        help: "Read every stored copy back whole and compare its SHA-256 (default: size and header)."),
      .init(name: "no-verify", valueName: nil, help: "Do not read stored copies back."),
      .init(
        name: "delete-source", valueName: nil,
        help: "Remove source messages once their copies are committed and confirmed in the target."),
      .init(
        name: "keep-days", valueName: "N",
        help: "With a POP3 or IMAP source: delete copies from the source N days after they were stored."),
      .init(name: "dry-run", valueName: nil, help: "Plan and count; write nothing."),
      .init(name: "json", valueName: nil, help: "Print events and the report as JSON lines on standard output."),
      .init(name: "quiet", valueName: nil, help: "Print only the report's problems."),
    ] + ThrottleOptions.options + RunRecordOptions.options)

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let sides = try JobSides(arguments, command: Self.spec.name, console: console)
    let options = try Self.options(arguments, sourceFolder: sides.source.folder, command: Self.spec.name)
    return try Self.runJob(sides, options: options, arguments: arguments, console: console)
  }

  /// Runs a job between the two sides with progress, signals and the report: the body of
  /// migrate, backup, restore, import and export.
  static func runJob(
    _ sides: JobSides, options: MigrationOptions, arguments: ParsedArguments, console: Console
  ) throws -> ExitCode {
    var options = options
    ProfileDefaults.apply(
      source: sides.sourceProfile, target: sides.targetProfile, to: &options,
      connectionsGiven: arguments.value("connections") != nil, targetDelivers: sides.target.delivers,
      deliverySessionsGiven: arguments.value("delivery-sessions") != nil, console: console)
    if sides.source.isPOP3 {
      // A maildrop has one folder; the target URL's folder (default INBOX) receives it.
      let folder = sides.target.folder
      if !folder.isEmpty { options.folderMap[POP3Source.folderName] = folder }
    }
    if options.deleteSource {
      // Refused before anything moves: otherwise every copied message would be reported as
      // failed to remove, on every run.
      switch sides.source {
      case .local(.mbox, _):
        throw UsageError(
          command: Self.spec.name, message: "'--delete-source' cannot remove messages from an mbox file")
      case .archive:
        throw UsageError(command: Self.spec.name, message: "'--delete-source' cannot remove messages from an archive")
      default: break
      }
    }
    let statePath = try arguments.value("state") ?? Self.defaultStatePath(source: sides.source, target: sides.target)
    if options.dryRun { options.connections = 1 }
    let json = arguments.flag("json")
    let quiet = arguments.flag("quiet") || json
    let dryRun = options.dryRun
    let reportPath = arguments.value("report")
    try arguments.checkAllApply(to: sides.description)
    // One run per job at a time: a second run of the same job would copy what the first
    // has in flight. A killed run's lock goes with its process. An archive target has its
    // own writers' lock (and keeps the state inside it).
    var jobLock: ExclusiveLock?
    if !dryRun && sides.target.archivePath == nil {
      try FileSecurity.createPrivateDirectory(atPath: (statePath as NSString).deletingLastPathComponent)
      jobLock = try ExclusiveLock.acquire(path: statePath + ".lock", purpose: "\(Self.spec.name) \(sides.description)")
    }
    defer { jobLock?.release() }
    var sides = sides
    let started = Date()
    let throughput = reportPath == nil ? nil : ThroughputLog()
    func writeReport(_ report: MigrationReport, status: ExitCode) throws {
      guard let reportPath else { return }
      let run = HTMLReport.Run(
        command: arguments.command, arguments: arguments.words,
        source: arguments.positionals[0], target: arguments.positionals[1], started: started, finished: Date(),
        status: status, dryRun: dryRun)
      try HTMLReport.write(HTMLReport.render(report, run: run, throughput: throughput), to: reportPath)
      if !quiet { console.status("report: \(reportPath)") }
    }
    let waits = ThrottleWaits(policy: options.throttling)
    let report: MigrationReport
    do {
      try sides.connect(waits: waits)
      let progress = quiet ? nil : ProgressDisplay(console: console)
      let migration = Migration(
        source: sides.connectSource,
        sink: sides.connectTarget!,
        sourceIdentity: sides.source.identity,
        targetIdentity: sides.target.identity, statePath: statePath, options: options, waits: waits,
        events: { event in
          if json { console.print(JSONLines.line(JSONLines.object(event))) }
          if !quiet { Self.show(event, console: console, dryRun: dryRun) }
          progress?.handle(event)
          throughput?.handle(event)
        })
      if !quiet { console.status("state: \(statePath)") }
      report = try StopSignals.whileRunning(
        onFirst: {
          migration.requestStop()
          if !json { console.event("stopping after the batches in flight (press Ctrl-C again to quit at once)") }
        }, migration.run)
      progress?.finish()
    } catch {
      // A job that could not start (a refused login, an unreachable server) still gets its
      // report: it is what the admin forwards.
      var stopped = MigrationReport()
      stopped.stoppedBy = ReportedFailure(error)
      stopped.seconds = Date().timeIntervalSince(started)
      try? writeReport(stopped, status: ExitCode(stoppedBy: error))
      throw error
    }
    for lock in sides.archiveLocks { lock.release() }
    if json {
      console.print(JSONLines.line(JSONLines.report(report, dryRun: options.dryRun)))
    } else {
      ReportTable.print(report, console: console, dryRun: options.dryRun, quiet: quiet)
    }
    let status = Self.status(of: report)
    try writeReport(report, status: status)
    return status
  }

  /// The exit status of a job that ran (docs/cli.md, "Exit status").
  static func status(of report: MigrationReport) -> ExitCode {
    if report.interrupted { return .interrupted }
    if let stop = report.stoppedBy { return ExitCode(stop.kind) }
    return report.isComplete ? .success : .partial
  }

  static func options(
    _ arguments: ParsedArguments, sourceFolder folder: String, command name: String
  ) throws
    -> MigrationOptions
  {
    var options = MigrationOptions()
    if let mode = arguments.value("dedup") {
      guard let dedup = MigrationOptions.Dedup(rawValue: mode) else {
        throw UsageError(command: name, message: "option '--dedup' takes hash, message-id or none, not '\(mode)'")
      }
      options.dedup = dedup
    }
    if let mode = arguments.value("gmail-labels") {
      guard let labels = LabelMode(rawValue: mode) else {
        throw UsageError(
          command: name, message: "option '--gmail-labels' takes folders, first or keywords, not '\(mode)'")
      }
      options.naming.labelMode = labels
    }
    options.include = arguments.values("include")
    options.exclude = arguments.values("exclude")
    if !folder.isEmpty { options.include.append("^" + NSRegularExpression.escapedPattern(for: folder) + "$") }
    for pattern in options.include + options.exclude {
      do {
        _ = try NSRegularExpression(pattern: pattern)
      } catch {
        throw UsageError(command: name, message: "'\(pattern)' is not a valid regular expression")
      }
    }
    try FolderMapOptions.read(arguments, into: &options, command: name)
    options.since = try arguments.value("since").map { try date($0, option: "since", command: name) }
    options.before = try arguments.value("before").map { try date($0, option: "before", command: name) }
    if let size = arguments.value("max-size") {
      guard let bytes = UInt64(size), bytes > 0 else {
        throw UsageError(command: name, message: "option '--max-size' takes a number of bytes, not '\(size)'")
      }
      options.maxSize = bytes
    }
    options.spoolDirectory = try spoolDirectory(arguments)
    options.connections = try arguments.count("connections", default: 4, command: name)
    options.deliverySessions = try arguments.count("delivery-sessions", default: 4, command: name)
    if arguments.flag("verify") && arguments.flag("no-verify") {
      throw UsageError(command: name, message: "'--verify' and '--no-verify' cannot be used together")
    }
    if arguments.flag("verify") { options.verify = .at(.content) }
    if arguments.flag("no-verify") { options.verify = .off }
    options.batchCount = try arguments.count("batch", default: 50, command: name)
    try ThrottleOptions.read(arguments, into: &options, command: name)
    options.dryRun = arguments.flag("dry-run")
    options.syncFlags = arguments.flag("sync-flags")
    options.deleteSource = arguments.flag("delete-source")
    if let days = arguments.value("keep-days") {
      guard let number = Int(days), number >= 0 else {
        throw UsageError(command: name, message: "option '--keep-days' takes a number of days, not '\(days)'")
      }
      options.keepDays = number
      options.deleteSource = true
    }
    if options.dryRun && options.deleteSource {
      throw UsageError(
        command: name, message: "'--dry-run' and '--delete-source' (or '--keep-days') cannot be used together")
    }
    return options
  }

  static let spoolDirOption = CommandSpec.Option(
    name: "spool-dir", valueName: "DIR",
    help: "Where messages larger than 4 MiB are spooled while copied (default $TMPDIR, else /tmp).")

  /// `--spool-dir`, checked before anything moves: a spool file is made there and dropped,
  /// so a directory that cannot be written stops the job at once (`SpoolError`, exit 74)
  /// rather than at its first large message.
  static func spoolDirectory(_ arguments: ParsedArguments) throws -> String? {
    guard let directory = arguments.value("spool-dir") else { return nil }
    _ = try MessageSpooler(directory: directory)
    return directory
  }

  static func date(_ text: String, option: String, command: String) throws -> Int64 {
    guard let date = ReceivedDate(day: text) else {
      throw UsageError(command: command, message: "option '--\(option)' takes a date like 2024-03-31, not '\(text)'")
    }
    return date.secondsSince1970
  }

  /// `$XDG_STATE_HOME/mailferry/<source>--<target>.sqlite` (or `~/.local/state/…`); for a job
  /// into an archive, `DIR/state/<source>.sqlite`, so the archive carries its own progress.
  static func defaultStatePath(source: JobEndpoint, target: JobEndpoint) throws -> String {
    if let archive = target.archivePath { return "\(archive)/state/\(source.slug).sqlite" }
    let environment = ProcessInfo.processInfo.environment
    let base =
      environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
      ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/state")
    return "\(base)/mailferry/\(source.slug)--\(target.slug).sqlite"
  }

  static func show(_ event: MigrationEvent, console: Console, dryRun: Bool = false) {
    switch event {
    case .planned(let folders, _):
      console.event("plan: \(folders.count) folder(s)")
      for folder in folders {
        console.status("  \(folder.source.name) → \(folder.targetName)\(folder.reason.map { " (\($0))" } ?? "")")
      }
    case .folderStarted(let source, _, let toDo, let bytes):
      if toDo > 0 { console.event("\(source): \(toDo) message(s), \(ByteCountText.human(bytes)) to look at") }
    case .batchDone: break
    case .folderFinished(let report):
      if let error = report.error {
        console.event("\(report.source): stopped: \(error.description)")
      } else if report.copied + report.duplicates + report.failed.count + report.flagsUpdated
        + report.deletedFromSource > 0 || report.interrupted
      {
        console.event(
          "\(report.source): \(report.copied) \(dryRun ? "to copy" : "copied"), \(report.duplicates) already there, "
            + "\(report.failed.count) failed"
            + (report.flagsUpdated > 0 ? ", \(report.flagsUpdated) flag update(s)" : "")
            + (report.deletedFromSource > 0 ? ", \(report.deletedFromSource) deleted from the source" : "")
            + (report.interrupted ? " (stopped early)" : ""))
      }
    case .reconnecting(let source, let reason):
      console.event("\(source): connection lost (\(reason)); reconnecting")
    case .throttled(let source, let reason, let pause):
      console.event(
        "\(source): the server is throttling (\(reason)); waiting "
          + String(format: "%.1f s", Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18))
    case .refused, .altered: break
    }
  }
}
