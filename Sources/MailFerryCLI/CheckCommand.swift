/// `mailferry check JOBFILE`: reads a job file and checks each job as far as it can be
/// checked without connecting, naming the file and line of each problem.
struct CheckCommand: Subcommand {
  static let spec = CommandSpec(
    name: "check", summary: "Check a job file without running it.",
    discussion: """
      Reads every job of JOBFILE (docs/job-files.md) as 'mailferry run' would: its command,
      its stores, its options and their values, that the files it names exist and where its
      passwords come from. Nothing is connected. Each problem is printed as FILE:LINE with a
      hint; the exit code is 0 when every job can run, 65 otherwise.

      Example:
        mailferry check /etc/mailferry/jobs.conf
      """,
    positionals: [.init(name: "JOBFILE", help: "The job file.")],
    options: [])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let loaded = LoadedJobFile(path: arguments.positionals[0], purpose: .check)
    loaded.problems.forEach { $0.print(to: console) }
    guard loaded.isUsable else {
      let errors = loaded.problems.filter { !$0.isWarning }.count
      console.status("\(loaded.file.path): \(errors) error(s); no job was run")
      return .dataError
    }
    console.print(
      "\(loaded.file.path): \(loaded.jobs.count) job(s) ready: " + loaded.jobs.map(\.name).joined(separator: ", "))
    return .success
  }
}

/// A job file read and every job prepared, with all problems found in it.
struct LoadedJobFile {
  let file: JobFile
  let jobs: [PreparedJob]
  let problems: [JobFileProblem]

  init(path: String, purpose: JobPreparer.Purpose) {
    file = JobFile.read(path: path)
    var problems = file.problems
    let preparer = JobPreparer(file: file, purpose: purpose)
    jobs = file.jobs.compactMap { preparer.prepare($0, problems: &problems) }
    if file.jobs.isEmpty && file.problems.isEmpty {
      problems.append(
        JobFileProblem(path: path, line: 0, message: "holds no job", hint: "start a job with a [job NAME] line"))
    }
    self.problems = problems.sorted { $0.line < $1.line }
  }

  /// No errors (warnings allowed): every job is ready.
  var isUsable: Bool { !problems.contains { !$0.isWarning } }

  /// The jobs named (all when none is), or a usage error naming the unknown one.
  func select(_ names: [String], command: String) throws -> [PreparedJob] {
    guard !names.isEmpty else { return jobs }
    return try names.map { name in
      guard let job = jobs.first(where: { $0.name == name }) else {
        let suggestion = ParsedArguments.closest(to: name, among: jobs.map(\.name))
        throw UsageError(
          command: command,
          message: "\(file.path) has no job '\(name)'" + (suggestion.map { ". Did you mean '\($0)'?" } ?? "")
            + " (jobs: \(jobs.map(\.name).joined(separator: ", ")))")
      }
      return job
    }
  }
}
