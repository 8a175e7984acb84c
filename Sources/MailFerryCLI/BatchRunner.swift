import Foundation

/// Runs a batch's accounts, up to `parallel` at a time, each as a child process
/// (`AccountProcess`) writing `ID.log` (its messages), `ID.jsonl` (its JSON events and
/// report) and `ID.sqlite` (its checkpoint) in the state directory, and records each
/// outcome in `ID.outcome.json` as soon as the account ends.
///
/// One thread per running account waits for its child: the waits block, so they stay off
/// Swift's cooperative pool.
final class BatchRunner: @unchecked Sendable {
  struct Settings: Sendable {
    var executable: String
    var stateDirectory: String
    var parallel: Int
    var batchOptions: [String]
    var environment: [String: String]
  }

  private let settings: Settings
  private let lock = NSLock()
  private var running: [String: AccountProcess] = [:]
  private var stopping = false

  init(_ settings: Settings) { self.settings = settings }

  /// Runs every account (stopping early on `requestStop`) and returns the outcomes of the
  /// accounts that ran, in the order they finished. `finished` is called as each ends.
  func run(
    _ accounts: [BatchAccount], finished: @escaping @Sendable (BatchAccount, BatchOutcome) -> Void
  )
    -> [BatchOutcome]
  {
    let slots = DispatchSemaphore(value: settings.parallel)
    let group = DispatchGroup()
    let outcomes = OutcomeList()
    for account in accounts {
      slots.wait()
      if lock.withLock({ stopping }) {
        slots.signal()
        break
      }
      group.enter()
      let thread = Thread { [self] in
        let outcome = runOne(account)
        outcomes.append(outcome)
        finished(account, outcome)
        slots.signal()
        group.leave()
      }
      thread.start()
    }
    group.wait()
    return outcomes.items
  }

  /// Starts no further accounts and asks the running ones to stop after committing what
  /// they have in flight.
  func requestStop() {
    let children = lock.withLock {
      stopping = true
      return Array(running.values)
    }
    for child in children { child.requestStop() }
  }

  private func runOne(_ account: BatchAccount) -> BatchOutcome {
    let directory = settings.stateDirectory
    let logFile = "\(directory)/\(account.id).log"
    let eventsFile = "\(directory)/\(account.id).jsonl"
    let logStart = Self.size(of: logFile)
    let eventsStart = Self.size(of: eventsFile)
    let started = ContinuousClock.now
    let startedAt = Date()
    func outcome(status: ExitCode, ending: AccountProcess.Ending?, error: String?) -> BatchOutcome {
      let report = BatchChildOutput.lastReport(eventsFile, from: eventsStart)
      let exitCode: Int32? = if case .exited(let code) = ending { code } else { nil }
      let signal: Int32? = if case .killedBySignal(let number) = ending { number } else { nil }
      let result = BatchOutcome(
        id: account.id, status: status.rawValue, exitCode: exitCode, signal: signal, finishedAt: Date(),
        seconds: (ContinuousClock.now - started) / .seconds(1), copied: report?.copied, failed: report?.failed,
        error: error)
      do {
        try result.write(in: directory)
      } catch {
        BatchChildOutput.appendLine("error: \(error)", to: logFile)
      }
      return result
    }
    BatchChildOutput.appendLine(
      "==== \(ISO8601DateFormatter().string(from: startedAt)) mailferry batch: \(account.command) (line \(account.line))",
      to: logFile)
    let child: AccountProcess
    do {
      let environment = try account.environment(from: settings.environment)
      let state = "\(directory)/\(account.id).sqlite"
      child = try lock.withLock {
        guard !stopping else { throw BatchRunnerStopped() }
        let child = try AccountProcess.start(
          executable: settings.executable,
          arguments: account.arguments(stateFile: state, batchOptions: settings.batchOptions),
          environment: environment, stdoutFile: eventsFile, stderrFile: logFile)
        running[account.id] = child
        return child
      }
    } catch is BatchRunnerStopped {
      return outcome(status: .interrupted, ending: nil, error: "not started: the batch was stopped")
    } catch let error as ConfigurationError {
      BatchChildOutput.appendLine("error: \(error.description)\nhint: \(error.fix)", to: logFile)
      return outcome(status: .configuration, ending: nil, error: error.description)
    } catch {
      BatchChildOutput.appendLine("error: \(error)", to: logFile)
      return outcome(status: .configuration, ending: nil, error: "\(error)")
    }
    child.waitForEnd()
    let ending = lock.withLock {
      running[account.id] = nil
      return child.reap()
    }
    let status = Self.status(of: ending)
    let lastError = BatchChildOutput.lastError(logFile, from: logStart)
    let error: String?
    switch ending {
    case .exited: error = status == .success ? nil : lastError ?? Self.describe(ending)
    case .killedBySignal: error = Self.describe(ending) + (lastError.map { "; its last error: \($0)" } ?? "")
    }
    return outcome(status: status, ending: ending, error: error)
  }

  /// The account's status: the child's exit status; a child ended by a signal was stopped
  /// (its checkpoint holds what it committed, and the next run resumes from there).
  static func status(of ending: AccountProcess.Ending) -> ExitCode {
    switch ending {
    case .exited(let code): return ExitCode(rawValue: code) ?? .partial
    case .killedBySignal: return .interrupted
    }
  }

  static func describe(_ ending: AccountProcess.Ending) -> String {
    switch ending {
    case .exited(ExitCode.interrupted.rawValue): return "stopped on request; the next run of the batch continues it"
    case .exited(let code): return "mailferry exited with status \(code)"
    case .killedBySignal(let number):
      return "mailferry was ended by signal \(number) (\(String(cString: strsignal(number))))"
    }
  }

  private static func size(of path: String) -> UInt64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
  }
}

private struct BatchRunnerStopped: Error {}

/// The outcomes collected by the accounts' threads.
private final class OutcomeList: @unchecked Sendable {
  private let lock = NSLock()
  private var list: [BatchOutcome] = []
  func append(_ outcome: BatchOutcome) { lock.withLock { list.append(outcome) } }
  var items: [BatchOutcome] { lock.withLock { list } }
}
