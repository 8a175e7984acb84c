/// What a job records about itself beyond its messages: the settings its last run used
/// (`verify --state` reads the dedup mode and folder map from them) and the copies the
/// target altered.
extension CheckpointStore {
  /// Replaces the recorded settings with these.
  public func recordSettings(_ settings: [String: String]) throws {
    try database.transaction {
      try database.run("DELETE FROM settings")
      for (name, value) in settings.sorted(by: { $0.key < $1.key }) {
        try database.run("INSERT INTO settings (name, value) VALUES (?, ?)", .text(name), .text(value))
      }
    }
  }

  public func settings() throws -> [String: String] {
    Dictionary(
      try database.query("SELECT name, value FROM settings") { ($0.text(0), $0.text(1)) },
      uniquingKeysWith: { first, _ in first })
  }

  /// Records that the copy of a message was read back with other bytes than were sent.
  public func recordAlteration(
    folder: Int64, run: Int64, sourceUIDValidity: UInt32, sourceUID: UInt32, targetUID: UInt32?, difference: String
  ) throws {
    try database.run(
      """
      INSERT INTO alterations (folder_id, source_uidvalidity, source_uid, target_uid, difference, run_id)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (folder_id, source_uidvalidity, source_uid)
      DO UPDATE SET target_uid = excluded.target_uid, difference = excluded.difference, run_id = excluded.run_id
      """, .integer(folder), .int(Int(sourceUIDValidity)), .int(Int(sourceUID)),
      targetUID.map { .int(Int($0)) } ?? .null, .text(difference), .integer(run))
  }

  /// The altered copies recorded for a folder: source UID, target UID and what differs.
  public func alterations(folder: Int64) throws -> [(sourceUID: UInt32, targetUID: UInt32?, difference: String)] {
    try database.query(
      "SELECT source_uid, target_uid, difference FROM alterations WHERE folder_id = ? ORDER BY source_uid",
      .integer(folder)
    ) { row in
      (
        UInt32(truncatingIfNeeded: row.int64(0)), row.optionalInt64(1).map { UInt32(truncatingIfNeeded: $0) },
        row.text(2)
      )
    }
  }
}

extension CheckpointStore {
  /// Bytes this job moved since `since` (seconds since 1970): `uploaded` counts the copies
  /// stored in the target, otherwise every message read from the source (copies and
  /// duplicates), for a provider's daily volume limits.
  public func bytesMoved(since: Int64, uploaded: Bool) throws -> Int64 {
    let states = uploaded ? "('copied')" : "('copied', 'duplicate')"
    return try database.queryFirst(
      "SELECT COALESCE(SUM(size), 0) FROM messages WHERE state IN \(states) AND committed_at >= ?", .integer(since)
    ) { $0.int64(0) } ?? 0
  }

  /// When the oldest of those moves was committed: the window frees up 24 hours after it.
  public func oldestMove(since: Int64, uploaded: Bool) throws -> Int64? {
    let states = uploaded ? "('copied')" : "('copied', 'duplicate')"
    return try database.queryFirst(
      "SELECT MIN(committed_at) FROM messages WHERE state IN \(states) AND committed_at >= ?", .integer(since)
    ) { $0.optionalInt64(0) } ?? nil
  }
}
