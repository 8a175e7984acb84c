import Foundation

/// `mailferry status [JOBFILE [JOB…]] [--state FILE]`: what the last runs of jobs did and
/// what is left, from their state files, read without changing them.
struct StatusCommand: Subcommand {
  static let spec = CommandSpec(
    name: "status", summary: "Show the last run of jobs: when, how it ended, what is pending or failed.",
    discussion: """
      For each job of JOBFILE (or only the jobs named), or for the state file --state names:
      when the last run started and ended and how (complete, partial, interrupted, killed,
      or running now), how many messages are copied, how many are pending (in flight when a
      run stopped: the next run reconciles them), and each message that failed, with why.
      State files are only read: status works while a job runs and creates nothing.

      Examples:
        mailferry status /etc/mailferry/jobs.conf
        mailferry status --state ~/.local/state/mailferry/job.sqlite --json
      """,
    positionals: [
      .init(name: "JOBFILE", help: "The job file.", optional: true),
      .init(name: "JOB", help: "Only these jobs (default: all).", optional: true, repeats: true),
    ],
    options: [
      .init(name: "state", valueName: "FILE", help: "Show the state file FILE instead of a job file's jobs."),
      .init(name: "json", valueName: nil, help: "Print one JSON object per job on standard output."),
    ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let json = arguments.flag("json")
    var statuses: [JobStatus] = []
    var result = ExitCode.success
    switch (arguments.positionals.first, arguments.value("state")) {
    case (nil, nil):
      throw UsageError(command: Self.spec.name, message: "give a JOBFILE or --state FILE")
    case (_?, _?):
      throw UsageError(command: Self.spec.name, message: "give a JOBFILE or --state FILE, not both")
    case (nil, let state?):
      let path = JobEndpoint.absolute(state)
      guard FileManager.default.fileExists(atPath: path) else {
        throw ConfigurationError(
          what: "state file \(path)", problem: "does not exist",
          fix: "give the file the job wrote (a job prints 'state: FILE' when it starts)")
      }
      statuses.append(try JobStatus(name: nil, command: nil, statePath: path, lockPath: path + ".lock"))
    case (let file?, nil):
      let loaded = LoadedJobFile(path: file, purpose: .check)
      loaded.problems.filter { !$0.isWarning }.forEach { $0.print(to: console) }
      if !loaded.isUsable { result = .dataError }
      for job in try loaded.select(Array(arguments.positionals.dropFirst()), command: Self.spec.name) {
        statuses.append(try JobStatus(job: job))
      }
    }
    for status in statuses {
      if json {
        console.print(JSONLines.line(status.json))
      } else {
        status.print(to: console)
      }
    }
    return result
  }
}
