import Foundation
import MailCore
import Storage

/// `mailferry batch ACCOUNTS.csv`: many accounts, each a `migrate`, `backup` or `restore`
/// of its own, run as child processes with their own state, log and outcome files.
struct BatchCommand: Subcommand {
  static let spec = CommandSpec(
    name: "batch", summary: "Migrate or back up many accounts listed in a CSV file, resumably.",
    discussion: """
      Each line of ACCOUNTS.csv is one account: a header row names the columns (source,
      target, and where the passwords come from; see docs/mass-migration.md). Every account
      runs as a mailferry process of its own with its own state file, so one failing
      account never stops the others. A line is printed as each account finishes, and a
      table at the end. Running the same batch again skips the accounts that finished and
      resumes the others from their checkpoints. The exit status is the worst account's.

      --shard I/N runs only shard I (from 0) of N, chosen by a hash of each account's id:
      the N shards together run every account exactly once, so a job array (Slurm,
      Kubernetes) can spread a batch over machines.

      Examples:
        mailferry batch accounts.csv --parallel 4
        mailferry batch accounts.csv --shard "$SLURM_ARRAY_TASK_ID/4" --state-dir /shared/batch
        mailferry batch accounts.csv --options '--ca-file /etc/ssl/our-ca.pem --connections 1'
      """,
    positionals: [.init(name: "ACCOUNTS", help: "The accounts file (CSV with a header row).")],
    options: [
      .init(name: "parallel", valueName: "N", help: "Accounts run at once (default 1)."),
      .init(name: "shard", valueName: "I/N", help: "Run only shard I of N (I from 0 to N-1)."),
      .init(
        name: "state-dir", valueName: "DIR",
        help: "Where the accounts' state, logs and outcomes go (default $XDG_STATE_HOME/mailferry/batch-NAME)."),
      .init(name: "again", valueName: nil, help: "Run accounts whose last run finished too (e.g. a nightly backup)."),
      .init(
        name: "options", valueName: "WORDS",
        help: "Options added to every account's command, e.g. '--ca-file ca.pem' (repeatable).", repeatable: true),
      .init(
        name: "executable", valueName: "FILE", help: "The mailferry binary each account runs (default: this one)."),
    ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let name = Self.spec.name
    let parallel = try arguments.count("parallel", default: 1, command: name)
    let shard =
      try arguments.value("shard").map { text throws(UsageError) in
        try BatchShard(parsing: text, command: name)
      } ?? .all
    var batchOptions: [String] = []
    for words in arguments.values("options") {
      do {
        batchOptions += try OptionWords.split(words)
      } catch {
        throw UsageError(command: name, message: "option '--options': \(error.problem); \(error.fix)")
      }
    }
    if let reserved = BatchAccount.reservedOption(in: batchOptions) {
      throw UsageError(
        command: name, message: "option '--options': the batch sets \(reserved) for each account itself")
    }
    let again = arguments.flag("again")
    let executable = arguments.value("executable") ?? Self.ownExecutable()
    let path = arguments.positionals[0]
    let stateDirectory = arguments.value("state-dir").map {
      AccountsFile.resolved($0, base: FileManager.default.currentDirectoryPath)
    }
    try arguments.checkAllApply(to: "a batch")

    let file: AccountsFile
    do {
      file = try AccountsFile(path: path)
    } catch {
      MailFerryCommandLine.report(error, console: console)
      return .dataError
    }
    guard FileManager.default.isExecutableFile(atPath: executable) else {
      throw ConfigurationError(
        what: "mailferry executable \(executable)", problem: "is not an executable file",
        fix: "pass --executable with the path of the mailferry binary the accounts should run")
    }
    let directory = stateDirectory ?? Self.defaultStateDirectory(accountsFile: path)
    try FileSecurity.createPrivateDirectory(atPath: directory)
    let chosen = file.accounts.filter { shard.contains($0.id) }
    var skipped: [BatchOutcome] = []
    var toRun: [BatchAccount] = []
    for account in chosen {
      if !again, let last = BatchOutcome.read(id: account.id, in: directory), last.exitStatus == .success {
        skipped.append(last)
      } else {
        toRun.append(account)
      }
    }
    let shardText = shard == .all ? "" : " (shard \(shard.index)/\(shard.count): \(chosen.count) of them)"
    console.status(
      "batch: \(file.accounts.count) account(s) in \(path)\(shardText); \(toRun.count) to run, "
        + "\(skipped.count) finished earlier; \(parallel) at a time; state and logs in \(directory)")

    let runner = BatchRunner(
      .init(
        executable: executable, stateDirectory: directory, parallel: parallel, batchOptions: batchOptions,
        environment: ProcessInfo.processInfo.environment))
    let total = toRun.count
    // As every MailFerry process that writes to pipes: a closed reader must give EPIPE, not
    // end the batch (the Ctrl-C watcher's pipe is written after it has closed its end).
    signal(SIGPIPE, SIG_IGN)
    let counter = FinishCounter()
    let outcomes = try StopSignals.whileRunning(
      onFirst: {
        runner.requestStop()
        console.status("stopping: no new accounts start; the running ones commit what they have in flight")
      },
      {
        runner.run(toRun) { account, outcome in
          console.print(BatchSummary.line(account, outcome, number: counter.next(), of: total, directory: directory))
        }
      })
    let finishedIDs = Set(outcomes.map(\.id))
    let notStarted = toRun.filter { !finishedIDs.contains($0.id) }
    BatchSummary.table(
      chosen: chosen, ran: outcomes, skipped: skipped, notStarted: notStarted, directory: directory,
      console: console)
    var statuses = outcomes.map(\.exitStatus)
    if !notStarted.isEmpty { statuses.append(.interrupted) }
    return ExitCode.worst(statuses)
  }

  /// The running binary (`/proc/self/exe`), which each account runs as its own process.
  static func ownExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
  }

  /// `$XDG_STATE_HOME/mailferry/batch-NAME` (or `~/.local/state/…`), NAME the accounts
  /// file's name without its extension.
  static func defaultStateDirectory(accountsFile: String) -> String {
    let environment = ProcessInfo.processInfo.environment
    let base =
      environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
      ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/state")
    let name = ((accountsFile as NSString).lastPathComponent as NSString).deletingPathExtension
    return "\(base)/mailferry/batch-\(BatchAccount.fileSafe(name))"
  }
}

/// Numbers the accounts as they finish.
private final class FinishCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  func next() -> Int {
    lock.withLock {
      count += 1
      return count
    }
  }
}
