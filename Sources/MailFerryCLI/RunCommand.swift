/// `mailferry run JOBFILE [JOB…]`: runs the jobs of a job file one after the other, each
/// through the same code as its command typed on the command line.
struct RunCommand: Subcommand {
  static let spec = CommandSpec(
    name: "run", summary: "Run the jobs of a job file.",
    discussion: """
      Runs every job of JOBFILE (docs/job-files.md), or only the jobs named, in file order.
      Each job is its command (migrate, backup, restore) with the job's options, and behaves
      exactly as that command typed out: same output, same state file and lock, same exit
      code. A job file with any error runs nothing ('mailferry check' shows them all).

      After each job one line says how it ended. The exit code is the worst of the jobs'
      (docs/cli.md); 75 when a job was left for a later run because another run of it holds
      its lock. Ctrl-C stops the running job safely and runs no further job.

      Examples:
        mailferry run /etc/mailferry/jobs.conf
        mailferry run --quiet /etc/mailferry/jobs.conf      # from cron: output only on trouble
        mailferry run ~/.config/mailferry/jobs.conf alice-nightly
      """,
    positionals: [
      .init(name: "JOBFILE", help: "The job file."),
      .init(name: "JOB", help: "Run only these jobs (default: all).", optional: true, repeats: true),
    ],
    options: [
      .init(
        name: "quiet", valueName: nil,
        help: "Run every job with --quiet and print a line only for jobs that did not end with 0 (for cron).")
    ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let loaded = LoadedJobFile(path: arguments.positionals[0], purpose: .run)
    loaded.problems.forEach { $0.print(to: console) }
    guard loaded.isUsable else {
      console.status("\(loaded.file.path): no job was run; 'mailferry check \(loaded.file.path)' lists the problems")
      return .dataError
    }
    let jobs = try loaded.select(Array(arguments.positionals.dropFirst()), command: Self.spec.name)
    let quiet = arguments.flag("quiet")
    var statuses: [ExitCode] = []
    for (index, job) in jobs.enumerated() {
      var words = job.arguments
      if quiet && !words.contains("--quiet") && !words.contains("--json") { words.append("--quiet") }
      if !quiet {
        // Password and token commands may hold a client secret: their values are not shown.
        console.status("job \(job.name): mailferry \(ShellWords.shown(words))")
      }
      let status = JobSecrets.$passwords.withValue(job.passwords) {
        MailFerryCommandLine.run(words, console: console)
      }
      statuses.append(status)
      if !quiet || status != .success {
        console.print("job \(job.name): \(Self.outcome(status)) (exit \(status.rawValue))")
      }
      if status == .interrupted {
        for skipped in jobs.dropFirst(index + 1) { console.print("job \(skipped.name): not run (stopped)") }
        break
      }
    }
    return ExitCode.worst(statuses)
  }

  /// How a job ended, in words, by its exit code.
  static func outcome(_ status: ExitCode) -> String {
    switch status {
    case .success: return "done"
    case .partial: return "some messages did not move (its report above says which)"
    case .usage: return "its options are wrong"
    case .dataError: return "its input could not be read"
    case .unavailable: return "a server could not be used"
    case .ioError: return "a local file could not be read or written"
    case .temporary: return "left for a later run"
    case .noPermission: return "the server refused the login or the action"
    case .configuration: return "its configuration is wrong"
    case .interrupted: return "stopped"
    }
  }
}
