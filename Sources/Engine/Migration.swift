import Checkpoint
import Endpoints
import Foundation
import Transport

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
  let statePath: String
  let sourceIdentity: String
  let targetIdentity: String
  let options: MigrationOptions
  let events: @Sendable (MigrationEvent) -> Void
  private let stopFlag = StopFlag()

  public init(
    source: @escaping ConnectSource, sink: @escaping ConnectSink, sourceIdentity: String, targetIdentity: String,
    statePath: String, options: MigrationOptions, events: @escaping @Sendable (MigrationEvent) -> Void = { _ in }
  ) {
    connectSource = source
    connectSink = sink
    self.sourceIdentity = sourceIdentity
    self.targetIdentity = targetIdentity
    self.statePath = statePath
    self.options = options
    self.events = events
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

    let source = try connectSource()
    let sink = try connectSink()
    let (plan, warnings) = try FolderPlanner.plan(
      source: try source.folders(), target: try sink.folders(), targetSeparator: try sink.separator() ?? "/",
      sourcePrefix: try source.personalPrefix(), targetPrefix: try sink.personalPrefix(), include: options.include,
      exclude: options.exclude, folderMap: options.folderMap)
    report.warnings = warnings
    events(.planned(plan, estimates: try estimates(plan, source: source, store: store)))

    let queue = WorkQueue(plan)
    let results = ResultBox()
    let workerCount = max(1, min(options.connections, plan.count))
    var threads: [Thread] = []
    for index in 0..<workerCount {
      let firstPair: Pair? = index == 0 ? Pair(source: source, sink: sink) : nil
      let thread = Thread { [self] in
        self.work(queue: queue, results: results, runID: runID, firstPair: firstPair)
      }
      thread.stackSize = 4 << 20
      threads.append(thread)
      thread.start()
    }
    for thread in threads { while !thread.isFinished { usleep(10_000) } }
    report.folders = results.reports.sorted { lhs, rhs in
      (plan.firstIndex { $0.source.name == lhs.source } ?? 0) < (plan.firstIndex { $0.source.name == rhs.source } ?? 0)
    }
    report.interrupted = stopFlag.isSet
    try store.finishRun(runID, outcome: report.interrupted ? "interrupted" : report.isComplete ? "complete" : "partial")
    let elapsed = (ContinuousClock.now - started).components
    report.seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    return report
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
  private func work(queue: WorkQueue, results: ResultBox, runID: Int64, firstPair: Pair?) {
    var pair = firstPair
    let store: CheckpointStore
    do {
      store = try CheckpointStore(path: statePath, source: sourceIdentity, target: targetIdentity)
    } catch {
      while let folder = queue.next() {
        var failed = FolderReport(source: folder.source.name, target: folder.targetName)
        failed.error = "\(error)"
        results.add(failed)
      }
      return
    }
    while !stopFlag.isSet, let folder = queue.next() {
      var attempt = 0
      while true {
        do {
          if pair == nil { pair = Pair(source: try connectSource(), sink: try connectSink()) }
          let copier = FolderCopier(
            plan: folder, source: pair!.source, sink: pair!.sink, store: store, run: runID, options: options,
            sourceAccount: sourceIdentity, events: events, shouldStop: { [stopFlag] in stopFlag.isSet })
          let report = try copier.copy()
          events(.folderFinished(report))
          results.add(report)
          break
        } catch {
          pair?.source.abandon()
          pair?.sink.abandon()
          pair = nil
          attempt += 1
          if Self.isRetryable(error) && attempt <= options.retries && !stopFlag.isSet {
            events(.reconnecting(source: folder.source.name, reason: "\(error)"))
            Thread.sleep(forTimeInterval: min(30, 0.5 * pow(2, Double(attempt - 1))))
            continue
          }
          var failed = FolderReport(source: folder.source.name, target: folder.targetName)
          failed.error = "\(error)"
          events(.folderFinished(failed))
          results.add(failed)
          break
        }
      }
    }
    pair?.source.close()
    pair?.sink.close()
  }

  public static func isRetryable(_ error: Error) -> Bool {
    if let error = error as? TransportError { return error.isRetryable }
    if let error = error as? IMAPError { return error.isRetryable }
    if let error = error as? POP3Error { return error.isRetryable }
    if let error = error as? SMTPError { return error.isRetryable }
    return false
  }
}

/// Set once, read from any thread.
final class StopFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  func set() { lock.withLock { value = true } }
  var isSet: Bool { lock.withLock { value } }
}

/// Folders waiting for a worker.
private final class WorkQueue: @unchecked Sendable {
  private var items: [PlannedFolder]
  private let lock = NSLock()
  init(_ items: [PlannedFolder]) { self.items = items.reversed() }
  func next() -> PlannedFolder? { lock.withLock { items.popLast() } }
}

private final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private var storage: [FolderReport] = []
  func add(_ report: FolderReport) { lock.withLock { storage.append(report) } }
  var reports: [FolderReport] { lock.withLock { storage } }
}
