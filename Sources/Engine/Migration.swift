import Checkpoint
import Foundation
import MailCore
import Mailstore

/// Moves messages from a source to a sink: plans the folders, then copies them over
/// `options.connections` session pairs in parallel, each pair driven by its own thread with
/// its own checkpoint connection (see docs/architecture.md). Nothing here knows which
/// protocol either side speaks.
public final class Migration: @unchecked Sendable {
  /// Opens a logged-in session; called again after a dropped connection.
  public typealias ConnectSource = @Sendable () throws -> any MessageSource
  public typealias ConnectSink = @Sendable () throws -> any MessageSink

  let connectSource: ConnectSource
  let connectSink: ConnectSink
  /// The state file the run reads and writes; for a dry run, a scratch copy of it.
  let statePath: String
  /// The scratch copy a dry run works on, removed when the migration ends.
  private let scratchState: String?
  let sourceIdentity: String
  let targetIdentity: String
  let options: MigrationOptions
  let events: @Sendable (MigrationEvent) -> Void
  private let stopFlag = StopFlag()
  private let jobFailure = FailureBox()
  /// Throttling pauses and rate-limit waits of the whole job (the CLI shares it with its
  /// first logins, so they draw on the same `--max-wait` budget).
  public let waits: ThrottleWaits
  private let rate: RateLimiter?

  public init(
    source: @escaping ConnectSource, sink: @escaping ConnectSink, sourceIdentity: String, targetIdentity: String,
    statePath: String, options: MigrationOptions, waits: ThrottleWaits? = nil,
    events: @escaping @Sendable (MigrationEvent) -> Void = { _ in }
  ) {
    let waits = waits ?? ThrottleWaits(policy: options.throttling)
    self.waits = waits
    rate = options.throttling.maxRate.map { RateLimiter($0, waits: waits) }
    connectSource = source
    connectSink = sink
    self.sourceIdentity = sourceIdentity
    self.targetIdentity = targetIdentity
    if options.dryRun {
      // A dry run writes nothing: it reads what earlier runs did from a copy of the state
      // file (or starts from nothing) and throws the copy away.
      let scratch = NSTemporaryDirectory() + "mailferry-dry-run-\(UUID().uuidString).sqlite"
      for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: statePath + suffix) {
        try? FileManager.default.copyItem(atPath: statePath + suffix, toPath: scratch + suffix)
      }
      self.statePath = scratch
      scratchState = scratch
    } else {
      self.statePath = statePath
      scratchState = nil
    }
    self.options = options
    self.events = events
  }

  deinit {
    if let scratchState {
      for suffix in ["", "-wal", "-shm", "-journal"] {
        try? FileManager.default.removeItem(atPath: scratchState + suffix)
      }
    }
  }

  /// Asks the run to stop after the batches in flight; safe to call from any thread (a
  /// signal handler's queue). What was committed stays committed.
  public func requestStop() { stopFlag.set() }

  /// Runs the job to the end and reports. Throws only when nothing can be done (the first
  /// connection or the plan fails); later failures are in the report.
  public func run() throws -> MigrationReport {
    let started = ContinuousClock.now
    var report = MigrationReport()
    let store = try CheckpointStore(path: statePath, source: sourceIdentity, target: targetIdentity)
    let runID = try store.beginRun()

    let source: any MessageSource
    let sink: any MessageSink
    do {
      source = try connectWaitingOutThrottling(connectSource)
      sink = try connectWaitingOutThrottling(connectSink)
    } catch let exhausted as ThrottleBudgetExhausted {
      // Throttled before anything could start: a temporary stop, like one later on.
      report.stoppedBy = ReportedFailure(exhausted)
      report.waits = waits.totals
      try? store.finishRun(runID, outcome: "partial")
      return report
    }
    let (plan, warnings, labelled) = try makePlan(
      source: source, targetFolders: try sink.folders(), sink: sink, recorded: try store.folders())
    report.warnings = warnings
    report.verification = Self.verificationText(options: options, sink: sink)
    if !options.dryRun { try store.recordSettings(settings) }
    events(.planned(plan, estimates: try estimates(plan, source: source, store: store)))

    let volume =
      options.dailyVolumeLimits.isEmpty ? nil : try DailyVolume(limits: options.dailyVolumeLimits, store: store)
    let queue = WorkQueue(plan)
    let ledger = labelled ? LabelLedger(mode: options.naming.labelMode) : nil
    let results = ResultBox()
    let workerCount = max(1, min(options.connections, plan.count))
    var threads: [Thread] = []
    for index in 0..<workerCount {
      let firstPair: Pair? = index == 0 ? Pair(source: source, sink: sink) : nil
      let thread = Thread { [self] in
        self.work(
          queue: queue, results: results, runID: runID, firstPair: firstPair, volume: volume, ledger: ledger)
      }
      thread.stackSize = 4 << 20
      threads.append(thread)
      thread.start()
    }
    for thread in threads { while !thread.isFinished { usleep(10_000) } }
    report.stoppedBy = jobFailure.value
    if let failure = report.stoppedBy {
      // Folders no worker reached: not started, because of what stopped the job.
      while let folder = queue.next() {
        var skipped = FolderReport(source: folder.source.name, target: folder.targetName)
        skipped.error = ReportedFailure(
          description: "not started: the job stopped first", hint: failure.hint, scope: .job,
          isTemporary: failure.isTemporary)
        results.add(skipped)
      }
    }
    report.folders = results.reports.sorted { lhs, rhs in
      (plan.firstIndex { $0.source.name == lhs.source } ?? 0) < (plan.firstIndex { $0.source.name == rhs.source } ?? 0)
    }
    report.interrupted = stopFlag.isSet && report.stoppedBy == nil
    if ledger?.mode == .keywords && !stopFlag.isSet && !options.dryRun {
      do {
        report.labelKeywords = try addLabelKeywords(plan: plan, store: store)
      } catch {
        report.stoppedBy = ReportedFailure(error)
      }
    }
    do {
      try store.finishRun(
        runID, outcome: report.interrupted ? "interrupted" : report.isComplete ? "complete" : "partial")
    } catch {
      // The report still says what happened; the state file just lacks the run's end.
      if report.stoppedBy == nil { report.stoppedBy = ReportedFailure(error) }
    }
    report.waits = waits.totals
    let elapsed = (ContinuousClock.now - started).components
    report.seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    return report
  }

  /// The folder plan `run` and `preview` follow, with whether the source's folders are
  /// labels (Gmail: X-GM-EXT-1, a `\All` folder, or the profile says so).
  func makePlan(
    source: any MessageSource, targetFolders: [FolderDescriptor], sink: any MessageSink, recorded: [FolderState]
  ) throws -> (folders: [PlannedFolder], warnings: [String], labelled: Bool) {
    var naming = options.naming
    if source.keepsLabels { naming.sourceHasLabels = true }
    let sourceFolders = try source.folders()
    let labelled = naming.sourceHasLabels ?? sourceFolders.contains { $0.specialUse?.uppercased() == "\\ALL" }
    naming.sourceHasLabels = labelled
    let (plan, warnings) = try FolderPlanner.plan(
      source: sourceFolders, target: targetFolders, targetSeparator: try sink.separator() ?? "/",
      sourcePrefix: try source.personalPrefix(), targetPrefix: try sink.personalPrefix(), include: options.include,
      exclude: options.exclude, folderMap: options.folderMap, naming: naming,
      recorded: Dictionary(recorded.map { ($0.sourceName, $0.targetName) }, uniquingKeysWith: { first, _ in first }))
    return (plan, warnings, labelled)
  }

  /// Messages each folder may still have to look at: its count now minus what the
  /// checkpoint has done there. Only for the progress display.
  private func estimates(
    _ plan: [PlannedFolder], source: any MessageSource, store: CheckpointStore
  ) throws
    -> [String: Int]
  {
    let known = Dictionary(try store.folders().map { ($0.sourceName, $0.id) }, uniquingKeysWith: { first, _ in first })
    var estimates: [String: Int] = [:]
    for folder in plan {
      let count = (try? source.messageCount(folder.source.name)) ?? 0
      let done = try known[folder.source.name].map { try store.counts(folder: $0) }
      estimates[folder.source.name] = max(0, count - (done.map { $0.copied + $0.duplicates } ?? 0))
    }
    return estimates
  }

  private struct Pair: @unchecked Sendable {
    var source: any MessageSource
    var sink: any MessageSink
  }

  /// One worker: a session pair and a checkpoint connection of its own.
  private func work(
    queue: WorkQueue, results: ResultBox, runID: Int64, firstPair: Pair?, volume: DailyVolume?, ledger: LabelLedger?
  ) {
    var pair = firstPair
    let store: CheckpointStore
    do {
      store = try CheckpointStore(path: statePath, source: sourceIdentity, target: targetIdentity)
    } catch {
      jobFailure.set(ReportedFailure(error))
      stopFlag.set()
      return
    }
    while !stopFlag.isSet, let folder = queue.next() {
      if folder.onlyUnlabelled && queue.anyFailed {
        // A label folder failed: its messages would look unlabelled and be copied twice.
        var postponed = FolderReport(source: folder.source.name, target: folder.targetName)
        postponed.error = ReportedFailure(
          description: "postponed: it is read for the messages in no label, and a label folder failed in this run",
          hint: "run again once the failures above are resolved", scope: .folder, isTemporary: true)
        events(.folderFinished(postponed))
        results.add(postponed)
        continue
      }
      var attempt = 0
      var failed = false
      defer { queue.finished(folder, failed: failed) }
      // Throttling pauses in a row without a batch done in between: the backoff exponent.
      var throttledInARow = 0
      var batchesDone = 0
      var batchesAtLastPause = 0
      let countingEvents: (MigrationEvent) -> Void = { [events] event in
        if case .batchDone = event { batchesDone += 1 }
        events(event)
      }
      // What attempts that ended in an error had already committed.
      var earlier = FolderReport(source: folder.source.name, target: folder.targetName)
      while true {
        var copier: FolderCopier?
        do {
          if pair == nil { pair = Pair(source: try connectSource(), sink: try connectSink()) }
          copier = FolderCopier(
            plan: folder, source: pair!.source, sink: pair!.sink, store: store, run: runID, options: options,
            sourceAccount: sourceIdentity, events: countingEvents, shouldStop: { [stopFlag] in stopFlag.isSet })
          copier!.volume = volume
          copier!.rate = rate
          copier!.ledger = ledger
          if !pair!.sink.isSearchable && options.deliverySessions > 1 {
            copier!.delivery = DeliverySessions(count: options.deliverySessions, connect: connectSink)
          }
          var report = try copier!.copy()
          copier!.delivery?.close()
          report.addCommitted(of: earlier)
          events(.folderFinished(report))
          results.add(report)
          break
        } catch {
          if let copier { earlier.addCommitted(of: copier.report) }
          copier?.delivery?.abandon()
          pair?.source.abandon()
          pair?.sink.abandon()
          pair = nil
          if Self.isRetryable(error) && ErrorClass.isThrottling(error) && !stopFlag.isSet {
            // The server asks us to slow down: wait and go on, without using up a retry.
            if batchesDone > batchesAtLastPause { throttledInARow = 0 }
            batchesAtLastPause = batchesDone
            do {
              try waits.pause(
                after: error, attempt: throttledInARow, shouldStop: { [stopFlag] in stopFlag.isSet },
                announce: { events(.throttled(source: folder.source.name, reason: "\(error)", pause: $0)) })
              throttledInARow += 1
              continue
            } catch let exhausted {
              stopJob(folder: folder, earlier: earlier, results: results, failure: exhausted)
              break
            }
          }
          attempt += 1
          if Self.isRetryable(error) && attempt <= options.retries && !stopFlag.isSet {
            events(.reconnecting(source: folder.source.name, reason: "\(error)"))
            Thread.sleep(forTimeInterval: min(30, 0.5 * pow(2, Double(attempt - 1))) * options.throttling.scale)
            continue
          }
          failed = true
          var failedFolder = earlier
          failedFolder.error = ReportedFailure(error)
          events(.folderFinished(failedFolder))
          results.add(failedFolder)
          if ErrorClass.scope(of: error) == .job {
            // The next folder would fail the same way (a full disk, a refused login): stop.
            jobFailure.set(ReportedFailure(error))
            stopFlag.set()
          }
          break
        }
      }
    }
    pair?.source.close()
    pair?.sink.close()
  }

  /// Opens a session, waiting out throttling (a busy maildrop, "too many connections")
  /// within the job's wait budget; other failures are thrown at once.
  private func connectWaitingOutThrottling<Session>(_ connect: () throws -> Session) throws -> Session {
    var attempt = 0
    while true {
      do {
        return try connect()
      } catch  where ErrorClass.isThrottling(error) && Self.isRetryable(error) && !stopFlag.isSet {
        try waits.pause(after: error, attempt: attempt, shouldStop: { [stopFlag] in stopFlag.isSet })
        attempt += 1
      }
    }
  }

  /// Records `folder` as failed by a job-wide `failure`, with what `earlier` attempts
  /// committed, and stops the job.
  private func stopJob(folder: PlannedFolder, earlier: FolderReport, results: ResultBox, failure: any Error) {
    var failed = earlier
    failed.error = ReportedFailure(failure)
    events(.folderFinished(failed))
    results.add(failed)
    jobFailure.set(ReportedFailure(failure))
    stopFlag.set()
  }

  /// Whether reconnecting and trying the folder again may help: a temporary failure of the
  /// session or the folder. The error says so itself, whatever protocol it comes from.
  public static func isRetryable(_ error: any Error) -> Bool {
    ErrorClass.isTemporary(error) && ErrorClass.scope(of: error) != .job
  }

  /// What this run records about itself in the state file, for `verify --state` and `status`.
  var settings: [String: String] {
    var settings = [
      "dedup": options.dedup.rawValue, "verify": options.verify.description,
      "gmail-labels": options.naming.labelMode.rawValue,
    ]
    if !options.folderMap.isEmpty {
      settings["folder-map"] = options.folderMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        .joined(separator: "\n")
    }
    return settings
  }

  /// The report's line on how stored copies were checked.
  static func verificationText(options: MigrationOptions, sink: any MessageSink) -> String {
    if options.verify == .off { return "not verified (--no-verify)" }
    guard let depth = FolderCopier.readBackDepth(options.verify, sink: sink) else {
      return sink.isSearchable
        ? "not verified: the target gives stored messages no ids to read them back by"
        : "not verified: a delivery cannot be read back; the server's acknowledgement is the only confirmation"
    }
    switch depth {
    case .size: return "verified: every stored copy read back by its id, size compared"
    case .header: return "verified: every stored copy read back by its id, size and header compared"
    case .content: return "verified: every stored copy read back by its id, size and SHA-256 of its content compared"
    }
  }
}

/// The first failure that stopped the whole job, set once from any worker.
final class FailureBox: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: ReportedFailure?
  func set(_ failure: ReportedFailure) { lock.withLock { if stored == nil { stored = failure } } }
  var value: ReportedFailure? { lock.withLock { stored } }
}

/// Set once, read from any thread.
final class StopFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  func set() { lock.withLock { value = true } }
  var isSet: Bool { lock.withLock { value } }
}

/// Folders waiting for a worker. A label source's All Mail (`onlyUnlabelled`) waits until
/// every other folder is finished: only then does the checkpoint know what they hold.
private final class WorkQueue: @unchecked Sendable {
  private var items: [PlannedFolder]
  private var waiting: [PlannedFolder]
  private var running = 0
  private var failures = 0
  private let condition = NSCondition()

  init(_ items: [PlannedFolder]) {
    self.items = items.filter { !$0.onlyUnlabelled }.reversed()
    waiting = items.filter(\.onlyUnlabelled)
  }

  func next() -> PlannedFolder? {
    condition.lock()
    defer { condition.unlock() }
    while true {
      if let item = items.popLast() {
        running += 1
        return item
      }
      if waiting.isEmpty { return nil }
      if running == 0 { return waiting.removeFirst() }
      condition.wait()
    }
  }

  /// Called once for every folder `next` gave out.
  func finished(_ folder: PlannedFolder, failed: Bool) {
    guard !folder.onlyUnlabelled else { return }
    condition.lock()
    running -= 1
    if failed { failures += 1 }
    condition.broadcast()
    condition.unlock()
  }

  /// Whether a folder other than All Mail failed as a whole.
  var anyFailed: Bool {
    condition.lock()
    defer { condition.unlock() }
    return failures > 0
  }
}

private final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private var storage: [FolderReport] = []
  func add(_ report: FolderReport) { lock.withLock { storage.append(report) } }
  var reports: [FolderReport] { lock.withLock { storage } }
}
