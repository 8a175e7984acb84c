import Foundation
import MailCore
import Storage

/// A job's resumable state in SQLite (docs/checkpoint.md): which source messages are done,
/// which are in flight, what failed and why.
///
/// The exactly-once protocol: `recordIntent` writes a batch as `pending` *before* it is
/// appended to the target; `commitCopied` turns it into `copied` (with the target UIDs)
/// after the target said OK, in one transaction that also advances the folder's high-water
/// mark. A run that finds `pending` rows was killed in between: the engine reconciles them
/// against the target, then calls `commitCopied` or `discardPending`, never appending blind.
///
/// Ownership rule: one thread or serial queue uses a store (one SQLite connection).
public final class CheckpointStore: @unchecked Sendable {
  public let path: String
  let database: SQLiteDatabase

  /// Opens (creating 0600, parents 0700) the state file of the job `source` → `target`.
  /// Refuses a file that belongs to another job.
  public init(path: String, source: String, target: String) throws {
    self.path = path
    database = try SQLiteDatabase(path: path)
    try CheckpointSchema.migrator.migrate(database)
    try claim(source: source, target: target)
  }

  /// Opens the state file of a job that exists, whatever job it is (`verify --state`).
  public init(existingAt path: String) throws {
    guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError.noState(path: path) }
    self.path = path
    database = try SQLiteDatabase(path: path)
    try CheckpointSchema.migrator.migrate(database)
  }

  /// The job's two sides as the state file names them, if it names any.
  public func job() throws -> (source: String, target: String)? {
    try database.queryFirst("SELECT source, target FROM job WHERE id = 1", row: { ($0.text(0), $0.text(1)) })
  }

  private func claim(source: String, target: String) throws {
    if let job = try database.queryFirst(
      "SELECT source, target FROM job WHERE id = 1", row: { ($0.text(0), $0.text(1)) })
    {
      guard job.0 == source && job.1 == target else {
        throw CheckpointError.otherJob(path: path, source: job.0, target: job.1)
      }
    } else {
      try database.run(
        "INSERT INTO job (id, source, target, created_at) VALUES (1, ?, ?, ?)", .text(source), .text(target),
        .integer(Self.now))
    }
  }

  // MARK: Runs

  public func beginRun() throws -> Int64 {
    try database.run("INSERT INTO runs (started_at) VALUES (?)", .integer(Self.now))
    return database.lastInsertRowID
  }

  public func finishRun(_ run: Int64, outcome: String) throws {
    try database.run(
      "UPDATE runs SET finished_at = ?, outcome = ? WHERE id = ?", .integer(Self.now), .text(outcome), .integer(run))
  }

  // MARK: Folders

  /// The folder's state, created on first use.
  public func folder(sourceName: String, targetName: String) throws -> FolderState {
    if let existing = try folderState(sourceName: sourceName) { return existing }
    try database.run(
      "INSERT INTO folders (source_name, target_name, updated_at) VALUES (?, ?, ?)", .text(sourceName),
      .text(targetName), .integer(Self.now))
    return try folderState(sourceName: sourceName)!
  }

  public func folders() throws -> [FolderState] {
    try database.query("\(Self.folderColumns) ORDER BY id", row: Self.folderState)
  }

  private func folderState(sourceName: String) throws -> FolderState? {
    try database.queryFirst("\(Self.folderColumns) WHERE source_name = ?", .text(sourceName), row: Self.folderState)
  }

  /// Saves UIDVALIDITY, mod-sequence and target mapping (not the high-water mark: that
  /// moves only with `commitCopied` and `recordDuplicates`).
  public func update(_ folder: FolderState) throws {
    try database.run(
      """
      UPDATE folders SET target_name = ?, source_uidvalidity = ?, source_highest_modseq = ?,
        target_uidvalidity = ?, updated_at = ? WHERE id = ?
      """, .text(folder.targetName), .optionalInt(folder.sourceUIDValidity.map(Int64.init)),
      .optionalInt(folder.sourceHighestModSeq.map { Int64(bitPattern: $0) }),
      .optionalInt(folder.targetUIDValidity.map(Int64.init)), .integer(Self.now), .integer(folder.id))
  }

  // MARK: Messages

  /// Records a batch as in flight, before it is sent to the target.
  public func recordIntent(folder: Int64, run: Int64, messages: [MessageRecord]) throws {
    try database.transaction {
      for message in messages {
        try database.run(
          """
          INSERT INTO messages (folder_id, source_uidvalidity, source_uid, message_id, sha256, size, state, run_id)
          VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
          """, .integer(folder), .int(Int(message.sourceUIDValidity)), .int(Int(message.sourceUID)),
          .optionalText(message.messageID?.normalized), .blob(message.sha256.bytes), .int(message.size),
          .integer(run))
      }
    }
  }

  /// Marks in-flight messages as copied (with their target UIDs when known) and moves the
  /// folder's high-water mark to `lastUID`, atomically.
  public func commitCopied(
    folder: Int64, sourceUIDValidity: UInt32, copies: [(sourceUID: UInt32, targetUID: UInt32?)],
    targetUIDValidity: UInt32?, lastUID: UInt32?
  ) throws {
    try database.transaction {
      for copy in copies {
        try database.run(
          """
          UPDATE messages SET state = 'copied', target_uid = ?, target_uidvalidity = ?, committed_at = ?
          WHERE folder_id = ? AND source_uidvalidity = ? AND source_uid = ? AND state = 'pending'
          """, .optionalInt(copy.targetUID.map(Int64.init)), .optionalInt(targetUIDValidity.map(Int64.init)),
          .integer(Self.now), .integer(folder), .int(Int(sourceUIDValidity)), .int(Int(copy.sourceUID)))
        guard database.changes == 1 else {
          throw CheckpointError.notPending(path: path, folder: folder, uid: copy.sourceUID)
        }
        try database.run(
          "DELETE FROM failures WHERE folder_id = ? AND source_uidvalidity = ? AND source_uid = ?", .integer(folder),
          .int(Int(sourceUIDValidity)), .int(Int(copy.sourceUID)))
      }
      if let lastUID { try advance(folder: folder, to: lastUID) }
    }
  }

  /// Records messages skipped because the target already holds them, with the target
  /// message each one was matched to (when its UID is known).
  public func recordDuplicates(
    folder: Int64, run: Int64, messages: [(record: MessageRecord, targetUID: UInt32?)], targetUIDValidity: UInt32?,
    lastUID: UInt32?
  ) throws {
    try database.transaction {
      for (message, targetUID) in messages {
        try database.run(
          """
          INSERT OR REPLACE INTO messages (folder_id, source_uidvalidity, source_uid, message_id, sha256, size, state,
            target_uidvalidity, target_uid, run_id, committed_at)
          VALUES (?, ?, ?, ?, ?, ?, 'duplicate', ?, ?, ?, ?)
          """, .integer(folder), .int(Int(message.sourceUIDValidity)), .int(Int(message.sourceUID)),
          .optionalText(message.messageID?.normalized), .blob(message.sha256.bytes), .int(message.size),
          .optionalInt(targetUID == nil ? nil : targetUIDValidity.map(Int64.init)),
          .optionalInt(targetUID.map(Int64.init)), .integer(run), .integer(Self.now))
      }
      if let lastUID { try advance(folder: folder, to: lastUID) }
    }
  }

  /// Moves the folder's high-water mark to `lastUID` (every source UID up to it is done).
  public func advance(folder: Int64, lastUID: UInt32) throws { try advance(folder: folder, to: lastUID) }

  /// Starts the folder's progress over (its source UIDVALIDITY changed). Rows of the old
  /// UIDVALIDITY stay: their target copies still count for deduplication.
  public func resetProgress(folder: Int64) throws {
    try database.run(
      "UPDATE folders SET source_last_uid = 0, source_highest_modseq = NULL, updated_at = ? WHERE id = ?",
      .integer(Self.now), .integer(folder))
  }

  /// Target UIDs this job knows it wrote or matched in the folder's target.
  public func targetUIDs(folder: Int64, targetUIDValidity: UInt32) throws -> Set<UInt32> {
    Set(
      try database.query(
        """
        SELECT target_uid FROM messages WHERE folder_id = ? AND target_uidvalidity = ? AND target_uid IS NOT NULL
          AND state IN ('copied', 'duplicate')
        """, .integer(folder), .int(Int(targetUIDValidity)), row: { UInt32(truncatingIfNeeded: $0.int64(0)) }))
  }

  /// Per content hash: rows done in the folder (any source UIDVALIDITY), rows done for
  /// `currentValidity`, and rows whose target UID is unknown.
  public func hashCounts(
    folder: Int64, currentValidity: UInt32, targetUIDValidity: UInt32?
  ) throws
    -> [SHA256Digest: HashCount]
  {
    var counts: [SHA256Digest: HashCount] = [:]
    let rows = try database.query(
      """
      SELECT sha256, source_uidvalidity = ?, target_uid IS NULL OR target_uidvalidity IS NOT ? FROM messages
      WHERE folder_id = ? AND state IN ('copied', 'duplicate')
      """, .int(Int(currentValidity)), .optionalInt(targetUIDValidity.map(Int64.init)), .integer(folder)
    ) { row in (SHA256Digest(bytes: row.blob(0)), row.int(1) == 1, row.int(2) == 1) }
    for (hash, current, unknownTarget) in rows {
      counts[hash, default: HashCount()].all += 1
      if current { counts[hash, default: HashCount()].current += 1 }
      if unknownTarget { counts[hash, default: HashCount()].withoutTargetUID += 1 }
    }
    return counts
  }

  /// Source UIDs above `above` already done for this UIDVALIDITY.
  public func doneUIDs(folder: Int64, sourceUIDValidity: UInt32, above: UInt32) throws -> Set<UInt32> {
    Set(
      try database.query(
        """
        SELECT source_uid FROM messages WHERE folder_id = ? AND source_uidvalidity = ? AND source_uid > ?
          AND state IN ('copied', 'duplicate')
        """, .integer(folder), .int(Int(sourceUIDValidity)), .int(Int(above)),
        row: { UInt32(truncatingIfNeeded: $0.int64(0)) }))
  }

  /// Source messages of this UIDVALIDITY that are done, with where their copy is: for
  /// `--sync-flags` and for confirming copies before `--delete-source`.
  public func doneMessages(folder: Int64, sourceUIDValidity: UInt32) throws -> [DoneMessage] {
    try database.query(
      """
      SELECT source_uid, sha256, size, target_uidvalidity, target_uid, committed_at FROM messages
      WHERE folder_id = ? AND source_uidvalidity = ? AND state IN ('copied', 'duplicate') ORDER BY source_uid
      """, .integer(folder), .int(Int(sourceUIDValidity))
    ) { row in
      DoneMessage(
        sourceUID: UInt32(truncatingIfNeeded: row.int64(0)), sha256: SHA256Digest(bytes: row.blob(1)), size: row.int(2),
        targetUIDValidity: row.optionalInt64(3).map { UInt32(truncatingIfNeeded: $0) },
        targetUID: row.optionalInt64(4).map { UInt32(truncatingIfNeeded: $0) }, committedAt: row.optionalInt64(5))
    }
  }

  // MARK: Source keys

  /// Numeric keys for a source's own message identities (POP3 UIDLs) in `folder`: known
  /// identities keep their key, new ones get keys above every key given before, in the
  /// order given, so the folder's high-water mark works for them as for IMAP UIDs.
  public func keys(folder: Int64, identities: [String]) throws -> [UInt32] {
    try database.transaction {
      var next =
        try database.queryFirst(
          "SELECT coalesce(max(key), 0) FROM source_keys WHERE folder_id = ?", .integer(folder), row: { $0.int64(0) })
        ?? 0
      var result: [UInt32] = []
      result.reserveCapacity(identities.count)
      for identity in identities {
        if let known = try database.queryFirst(
          "SELECT key FROM source_keys WHERE folder_id = ? AND identity = ?", .integer(folder), .text(identity),
          row: { $0.int64(0) })
        {
          result.append(UInt32(truncatingIfNeeded: known))
          continue
        }
        next += 1
        guard next < Int64(UInt32.max) else { throw CheckpointError.keysExhausted(path: path, folder: folder) }
        try database.run(
          "INSERT INTO source_keys (folder_id, identity, key) VALUES (?, ?, ?)", .integer(folder), .text(identity),
          .integer(next))
        result.append(UInt32(next))
      }
      return result
    }
  }

  /// Forgets in-flight messages the target turned out not to have, so they are sent again.
  public func discardPending(folder: Int64, sourceUIDValidity: UInt32, sourceUIDs: [UInt32]) throws {
    try database.transaction {
      for uid in sourceUIDs {
        try database.run(
          "DELETE FROM messages WHERE folder_id = ? AND source_uidvalidity = ? AND source_uid = ? AND state = 'pending'",
          .integer(folder), .int(Int(sourceUIDValidity)), .int(Int(uid)))
      }
    }
  }

  /// Messages recorded as in flight in `folder`: a previous run stopped between sending
  /// and committing them.
  public func pending(folder: Int64) throws -> [MessageRecord] {
    try database.query(
      """
      SELECT source_uidvalidity, source_uid, message_id, sha256, size FROM messages
      WHERE folder_id = ? AND state = 'pending' ORDER BY source_uid
      """, .integer(folder), row: Self.messageRecord)
  }

  /// Whether the source message is already done (copied or skipped as a duplicate).
  public func isDone(folder: Int64, sourceUIDValidity: UInt32, sourceUID: UInt32) throws -> Bool {
    try database.queryFirst(
      """
      SELECT 1 FROM messages WHERE folder_id = ? AND source_uidvalidity = ? AND source_uid = ?
        AND state IN ('copied', 'duplicate')
      """, .integer(folder), .int(Int(sourceUIDValidity)), .int(Int(sourceUID)), row: { _ in true }) ?? false
  }

  /// How many copies of content `sha256` this job has put into the folder's target.
  public func copiesInTarget(folder: Int64, sha256: SHA256Digest) throws -> Int {
    try database.queryFirst(
      "SELECT count(*) FROM messages WHERE folder_id = ? AND sha256 = ? AND state = 'copied'", .integer(folder),
      .blob(sha256.bytes), row: { $0.int(0) }) ?? 0
  }

  /// Whether a message with this Message-ID was copied into the folder's target.
  /// Whether another folder of the job holds a message with this content, copied, in
  /// flight, or found in the target: for a label source, where one message sits in several
  /// folders.
  public func isHeldInOtherFolder(sha256: SHA256Digest, folder: Int64) throws -> Bool {
    try database.queryFirst(
      "SELECT 1 FROM messages WHERE sha256 = ? AND folder_id != ? LIMIT 1", .blob(sha256.bytes), .integer(folder),
      row: { _ in true }) ?? false
  }

  /// For a label source: each message recorded in one folder as held by another folder's
  /// copy, with where that copy is (the folder a label keyword is to be added for).
  public func copiesForOtherLabels() throws -> [LabelCopy] {
    try database.query(
      """
      SELECT DISTINCT label.source_name, home.target_name, copy.target_uidvalidity, copy.target_uid
      FROM messages AS seen
      JOIN folders AS label ON label.id = seen.folder_id
      JOIN messages AS copy ON copy.sha256 = seen.sha256 AND copy.folder_id != seen.folder_id
        AND copy.state = 'copied' AND copy.target_uid IS NOT NULL
      JOIN folders AS home ON home.id = copy.folder_id
      WHERE seen.state = 'duplicate' AND seen.target_uid IS NULL
      """
    ) { row in
      LabelCopy(
        labelFolder: row.text(0), targetFolder: row.text(1),
        targetUIDValidity: row.optionalInt64(2).map { UInt32(truncatingIfNeeded: $0) },
        targetUID: UInt32(row.int(3)))
    }
  }

  public func hasCopied(folder: Int64, messageID: MessageID) throws -> Bool {
    try database.queryFirst(
      "SELECT 1 FROM messages WHERE folder_id = ? AND message_id = ? AND state = 'copied' LIMIT 1", .integer(folder),
      .text(messageID.normalized), row: { _ in true }) ?? false
  }

  /// Counts per state, for reports.
  public func counts(folder: Int64) throws -> (copied: Int, duplicates: Int, pending: Int, failed: Int) {
    let states = try database.query(
      "SELECT state, count(*) FROM messages WHERE folder_id = ? GROUP BY state", .integer(folder),
      row: { ($0.text(0), $0.int(1)) })
    let lookup = Dictionary(uniqueKeysWithValues: states)
    let failed =
      try database.queryFirst("SELECT count(*) FROM failures WHERE folder_id = ?", .integer(folder), row: { $0.int(0) })
      ?? 0
    return (lookup["copied"] ?? 0, lookup["duplicate"] ?? 0, lookup["pending"] ?? 0, failed)
  }

  // MARK: Failures

  /// Records (or counts another attempt of) a message the target refused, with its reason.
  public func recordFailure(
    folder: Int64, run: Int64, sourceUIDValidity: UInt32, sourceUID: UInt32, reason: String
  )
    throws
  {
    try database.run(
      """
      INSERT INTO failures (folder_id, source_uidvalidity, source_uid, reason, attempts, last_run_id)
      VALUES (?, ?, ?, ?, 1, ?)
      ON CONFLICT (folder_id, source_uidvalidity, source_uid)
      DO UPDATE SET reason = excluded.reason, attempts = attempts + 1, last_run_id = excluded.last_run_id
      """, .integer(folder), .int(Int(sourceUIDValidity)), .int(Int(sourceUID)), .text(reason), .integer(run))
  }

  public func failures(folder: Int64) throws -> [FailureRecord] {
    try database.query(
      """
      SELECT source_uidvalidity, source_uid, reason, attempts FROM failures WHERE folder_id = ? ORDER BY source_uid
      """, .integer(folder)
    ) { row in
      FailureRecord(
        sourceUIDValidity: UInt32(row.int64(0)), sourceUID: UInt32(row.int64(1)), reason: row.text(2),
        attempts: row.int(3))
    }
  }

  // MARK: Helpers

  private func advance(folder: Int64, to lastUID: UInt32) throws {
    try database.run(
      "UPDATE folders SET source_last_uid = max(source_last_uid, ?), updated_at = ? WHERE id = ?",
      .int(Int(lastUID)), .integer(Self.now), .integer(folder))
  }

  private static var now: Int64 { Int64(Date().timeIntervalSince1970) }

  private static let folderColumns = """
    SELECT id, source_name, target_name, source_uidvalidity, source_last_uid, source_highest_modseq,
      target_uidvalidity FROM folders
    """

  private static func folderState(_ row: SQLiteRow) -> FolderState {
    FolderState(
      id: row.int64(0), sourceName: row.text(1), targetName: row.text(2),
      sourceUIDValidity: row.optionalInt64(3).map { UInt32(truncatingIfNeeded: $0) },
      sourceLastUID: UInt32(truncatingIfNeeded: row.int64(4)),
      sourceHighestModSeq: row.optionalInt64(5).map { UInt64(bitPattern: $0) },
      targetUIDValidity: row.optionalInt64(6).map { UInt32(truncatingIfNeeded: $0) })
  }

  private static func messageRecord(_ row: SQLiteRow) -> MessageRecord {
    MessageRecord(
      sourceUIDValidity: UInt32(truncatingIfNeeded: row.int64(0)), sourceUID: UInt32(truncatingIfNeeded: row.int64(1)),
      messageID: row.optionalText(2).flatMap { MessageID(fieldValue: $0) }, sha256: SHA256Digest(bytes: row.blob(3)),
      size: row.int(4))
  }
}

/// One folder's progress.
public struct FolderState: Sendable, Equatable {
  public let id: Int64
  public var sourceName: String
  public var targetName: String
  public var sourceUIDValidity: UInt32?
  /// Every source UID up to this one is done (copied, duplicate or failed and recorded).
  public var sourceLastUID: UInt32
  public var sourceHighestModSeq: UInt64?
  public var targetUIDValidity: UInt32?
}

/// What the checkpoint knows about one source message.
public struct MessageRecord: Sendable, Equatable {
  public var sourceUIDValidity: UInt32
  public var sourceUID: UInt32
  public var messageID: MessageID?
  public var sha256: SHA256Digest
  public var size: Int

  public init(sourceUIDValidity: UInt32, sourceUID: UInt32, messageID: MessageID?, sha256: SHA256Digest, size: Int) {
    self.sourceUIDValidity = sourceUIDValidity
    self.sourceUID = sourceUID
    self.messageID = messageID
    self.sha256 = sha256
    self.size = size
  }
}

/// A done source message and the target message that holds it (when its UID is known).
public struct DoneMessage: Sendable, Equatable {
  public var sourceUID: UInt32
  public var sha256: SHA256Digest
  public var size: Int
  public var targetUIDValidity: UInt32?
  public var targetUID: UInt32?
  /// When the copy was committed (seconds since 1970); nil for rows from before that was kept.
  public var committedAt: Int64?
}

/// How often a content hash occurs among a folder's done rows.
public struct HashCount: Sendable, Equatable {
  public var all = 0
  public var current = 0
  public var withoutTargetUID = 0
  public init() {}
}

public struct FailureRecord: Sendable, Equatable {
  public var sourceUIDValidity: UInt32
  public var sourceUID: UInt32
  public var reason: String
  public var attempts: Int

  public init(sourceUIDValidity: UInt32, sourceUID: UInt32, reason: String, attempts: Int) {
    self.sourceUIDValidity = sourceUIDValidity
    self.sourceUID = sourceUID
    self.reason = reason
    self.attempts = attempts
  }
}

public enum CheckpointError: UserFacingError, Equatable {
  case otherJob(path: String, source: String, target: String)
  case notPending(path: String, folder: Int64, uid: UInt32)
  case keysExhausted(path: String, folder: Int64)
  case noState(path: String)

  public var description: String {
    switch self {
    case .otherJob(let path, let source, let target):
      return "state file \(path) belongs to another job (\(source) → \(target))"
    case .notPending(let path, let folder, let uid):
      return "state file \(path): message UID \(uid) of folder #\(folder) was committed without being recorded first"
    case .keysExhausted(let path, let folder):
      return "state file \(path): folder #\(folder) has used up its 4 billion message keys"
    case .noState(let path): return "state file \(path) does not exist"
    }
  }

  public var hint: String? {
    switch self {
    case .otherJob: return "pass --state FILE to keep this job's state elsewhere"
    case .notPending: return "this is a MailFerry bug: please report it with the state file"
    case .keysExhausted: return "start the job over with a new --state file"
    case .noState: return "give the --state file the job wrote (its path is printed when the job starts)"
    }
  }

  /// The state file serves the whole job.
  public var scope: FailureScope { .job }
  public var isTemporary: Bool { false }
  public var kind: FailureKind {
    switch self {
    case .otherJob, .noState: return .configuration
    case .notPending, .keysExhausted: return .other
    }
  }
}

/// A copy made for one label of a message that another label folder also holds.
public struct LabelCopy: Sendable, Equatable {
  /// The source folder (label) that holds the message too.
  public var labelFolder: String
  /// Where the one copy is.
  public var targetFolder: String
  public var targetUIDValidity: UInt32?
  public var targetUID: UInt32
}
