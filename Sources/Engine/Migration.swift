import Checkpoint
import Endpoints
import Foundation
import IMAPCodec
import Transport

/// Moves a whole account from one IMAP server to another: plans the folders, then copies
/// them over `options.connections` connection pairs in parallel, each pair driven by its
/// own thread with its own checkpoint connection (see docs/architecture.md).
public final class Migration: @unchecked Sendable {
  /// Opens a logged-in session; called again after a dropped connection.
  public typealias Connect = @Sendable () throws -> IMAPClient

  let connectSource: Connect
  let connectTarget: Connect
  let statePath: String
  let sourceIdentity: String
  let targetIdentity: String
  let options: MigrationOptions
  let events: @Sendable (MigrationEvent) -> Void

  public init(
    source: @escaping Connect, target: @escaping Connect, sourceIdentity: String, targetIdentity: String,
    statePath: String, options: MigrationOptions, events: @escaping @Sendable (MigrationEvent) -> Void = { _ in }
  ) {
    connectSource = source
    connectTarget = target
    self.sourceIdentity = sourceIdentity
    self.targetIdentity = targetIdentity
    self.statePath = statePath
    self.options = options
    self.events = events
  }

  /// Runs the job to the end and reports. Throws only when nothing can be done (the first
  /// connection or the plan fails); later failures are in the report.
  public func run() throws -> MigrationReport {
    let started = ContinuousClock.now
    var report = MigrationReport()
    let store = try CheckpointStore(path: statePath, source: sourceIdentity, target: targetIdentity)
    let runID = try store.beginRun()

    let source = try connectSource()
    let target = try connectTarget()
    let sourceFolders = try source.listFolders().map(Self.descriptor)
    let targetFolders = try target.listFolders().map(Self.descriptor)
    var targetSeparator = targetFolders.first?.separator
    if targetSeparator == nil { targetSeparator = try target.namespace()?.personal.first?.separator }
    let (plan, warnings) = try FolderPlanner.plan(
      source: sourceFolders, target: targetFolders, targetSeparator: targetSeparator ?? "/", include: options.include,
      exclude: options.exclude, folderMap: options.folderMap)
    report.warnings = warnings
    events(.planned(plan))

    // Workers take folders from a shared queue, largest first would be better; in order for now.
    let queue = WorkQueue(plan)
    let results = ResultBox()
    let workerCount = max(1, min(options.connections, plan.count))
    var threads: [Thread] = []
    for index in 0..<workerCount {
      let firstPair: (IMAPClient, IMAPClient)? = index == 0 ? (source, target) : nil
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
    try store.finishRun(runID, outcome: report.isComplete ? "complete" : "partial")
    report.seconds =
      Double((ContinuousClock.now - started).components.seconds)
      + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
    return report
  }

  /// One worker: a connection pair and a checkpoint connection of its own.
  private func work(queue: WorkQueue, results: ResultBox, runID: Int64, firstPair: (IMAPClient, IMAPClient)?) {
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
    while let folder = queue.next() {
      var attempt = 0
      while true {
        do {
          if pair == nil { pair = (try connectSource(), try connectTarget()) }
          let copier = FolderCopier(
            plan: folder, source: pair!.0, target: pair!.1, store: store, run: runID, options: options, events: events)
          let report = try copier.copy()
          events(.folderFinished(report))
          results.add(report)
          break
        } catch {
          pair?.0.close()
          pair?.1.close()
          pair = nil
          attempt += 1
          if Self.isRetryable(error) && attempt <= options.retries {
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
    pair?.0.logout()
    pair?.1.logout()
  }

  static func isRetryable(_ error: Error) -> Bool {
    if let error = error as? TransportError { return error.isRetryable }
    if let error = error as? IMAPError { return error.isRetryable }
    return false
  }

  static func descriptor(_ folder: IMAPFolder) -> FolderDescriptor {
    FolderDescriptor(
      name: folder.displayName, separator: folder.separator, specialUse: folder.specialUse,
      selectable: folder.isSelectable)
  }
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
