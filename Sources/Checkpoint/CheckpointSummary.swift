import Foundation
import MailCore
import Storage

/// What a state file says about its job, read without changing anything
/// (`mailferry status`): the job, its runs, how many messages are done or in flight, and
/// what failed. Opened read-only, so it works while a run holds the job's lock and never
/// creates a file.
public struct CheckpointSummary: Sendable, Equatable {
  public struct Run: Sendable, Equatable {
    public let id: Int64
    public let startedAt: Int64
    public let finishedAt: Int64?
    /// `running` (a run still going, or one that was killed), `complete`, `partial`,
    /// `interrupted`, or what a later MailFerry writes.
    public let outcome: String
  }

  public struct Failure: Sendable, Equatable {
    public let folder: String
    public let sourceUID: UInt32
    public let reason: String
    public let attempts: Int
  }

  public let source: String
  public let target: String
  public let runCount: Int
  /// The latest run, and the latest that finished as `complete`.
  public let lastRun: Run?
  public let lastCompleteRun: Run?
  public let copied: Int
  public let duplicates: Int
  /// Messages sent or about to be sent when a run stopped, not yet confirmed; the next run
  /// reconciles them with the target. Per source folder.
  public let pendingByFolder: [String: Int]
  public let failures: [Failure]

  public var pending: Int { pendingByFolder.values.reduce(0, +) }

  /// Reads the state file at `path`, which must exist.
  public init(readingStateAt path: String) throws {
    guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError.noState(path: path) }
    let database = try SQLiteDatabase(path: path, readOnly: true)
    let job = try database.queryFirst("SELECT source, target FROM job WHERE id = 1") { ($0.text(0), $0.text(1)) }
    (source, target) = job ?? ("", "")
    runCount = try database.queryFirst("SELECT COUNT(*) FROM runs") { $0.int(0) } ?? 0
    let runColumns = "SELECT id, started_at, finished_at, outcome FROM runs"
    lastRun = try database.queryFirst("\(runColumns) ORDER BY id DESC LIMIT 1", row: Self.run)
    lastCompleteRun = try database.queryFirst(
      "\(runColumns) WHERE outcome = 'complete' ORDER BY id DESC LIMIT 1", row: Self.run)
    var counts: [String: Int] = [:]
    for (state, count) in try database.query(
      "SELECT state, COUNT(*) FROM messages GROUP BY state", row: { ($0.text(0), $0.int(1)) })
    {
      counts[state] = count
    }
    copied = counts["copied"] ?? 0
    duplicates = counts["duplicate"] ?? 0
    pendingByFolder = Dictionary(
      uniqueKeysWithValues: try database.query(
        """
        SELECT f.source_name, COUNT(*) FROM messages m JOIN folders f ON f.id = m.folder_id
        WHERE m.state = 'pending' GROUP BY f.source_name
        """, row: { ($0.text(0), $0.int(1)) }))
    failures = try database.query(
      """
      SELECT f.source_name, x.source_uid, x.reason, x.attempts FROM failures x JOIN folders f ON f.id = x.folder_id
      ORDER BY f.source_name, x.source_uid
      """,
      row: {
        Failure(folder: $0.text(0), sourceUID: UInt32(clamping: $0.int64(1)), reason: $0.text(2), attempts: $0.int(3))
      }
    )
  }

  private static func run(_ row: SQLiteRow) -> Run {
    Run(id: row.int64(0), startedAt: row.int64(1), finishedAt: row.optionalInt64(2), outcome: row.text(3))
  }
}
