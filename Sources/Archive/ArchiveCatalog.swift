import Foundation
import MailCore
import Storage

/// A folder of the archive as the catalog has it.
public struct ArchiveFolder: Sendable, Equatable {
  public var id: Int64
  public var name: String
  /// The folder's directory under `folders/`.
  public var directory: String
  /// Stays the same for the folder's life: its UIDs never change meaning.
  public var validity: UInt32
  public var specialUse: String?
  public var nextUID: UInt32
}

/// A data file of a folder and how much of it (and of its manifest) is committed.
struct CatalogFile: Sendable, Equatable {
  var id: Int64
  var name: String
  var dataLength: Int
  var manifestLength: Int
}

/// A row of `messages` before it is written.
struct CatalogRow {
  var uid: UInt32
  var sha256: SHA256Digest
  var messageID: String?
  var subject: String?
  var from: String?
  var flags: [String]
  var internalDate: Int64?
  var zoneMinutes: Int
  var origin: ArchiveOrigin?
  var firstSeen: Int64
  var lastSeen: Int64
}

/// A blob (a message's bytes, stored once) before it is written.
struct CatalogBlob {
  var sha256: SHA256Digest
  var size: Int
  var fileID: Int64
  var memberOffset: Int
  var recordOffset: Int
  var recordLength: Int
}

/// The archive's index in SQLite (`catalog.sqlite`). One connection, one owner thread.
/// Commits are synchronous (`synchronous=FULL`): a batch the catalog has committed survives
/// a power cut, so the job's checkpoint, committed after it, never runs ahead of it.
final class ArchiveCatalog {
  let database: SQLiteDatabase

  init(path: String) throws {
    database = try SQLiteDatabase(path: path)
    try database.execute("PRAGMA synchronous=FULL")
    try CatalogSchema.migrator.migrate(database)
  }

  // MARK: Folders and files

  func folders() throws -> [ArchiveFolder] {
    try database.query(
      "SELECT id, name, directory, validity, special_use, next_uid FROM folders ORDER BY name", row: Self.folder)
  }

  func folder(named name: String) throws -> ArchiveFolder? {
    try database.queryFirst(
      "SELECT id, name, directory, validity, special_use, next_uid FROM folders WHERE name = ?", .text(name),
      row: Self.folder)
  }

  private static func folder(_ row: SQLiteRow) -> ArchiveFolder {
    ArchiveFolder(
      id: row.int64(0), name: row.text(1), directory: row.text(2), validity: UInt32(truncatingIfNeeded: row.int64(3)),
      specialUse: row.optionalText(4), nextUID: UInt32(truncatingIfNeeded: row.int64(5)))
  }

  func createFolder(
    name: String, directory: String, validity: UInt32, specialUse: String?, nextUID: UInt32 = 1
  )
    throws -> ArchiveFolder
  {
    try database.run(
      "INSERT INTO folders (name, directory, validity, special_use, next_uid) VALUES (?, ?, ?, ?, ?)", .text(name),
      .text(directory), .integer(Int64(validity)), .optionalText(specialUse), .integer(Int64(nextUID)))
    return ArchiveFolder(
      id: database.lastInsertRowID, name: name, directory: directory, validity: validity, specialUse: specialUse,
      nextUID: nextUID)
  }

  func setSpecialUse(folder: Int64, _ specialUse: String?) throws {
    try database.run("UPDATE folders SET special_use = ? WHERE id = ?", .optionalText(specialUse), .integer(folder))
  }

  func files(folder: Int64) throws -> [CatalogFile] {
    try database.query(
      "SELECT id, name, data_length, manifest_length FROM files WHERE folder_id = ? ORDER BY name", .integer(folder)
    ) { CatalogFile(id: $0.int64(0), name: $0.text(1), dataLength: $0.int(2), manifestLength: $0.int(3)) }
  }

  func addFile(folder: Int64, name: String, manifestLength: Int) throws -> CatalogFile {
    try database.run(
      "INSERT INTO files (folder_id, name, manifest_length) VALUES (?, ?, ?)", .integer(folder), .text(name),
      .int(manifestLength))
    return CatalogFile(id: database.lastInsertRowID, name: name, dataLength: 0, manifestLength: manifestLength)
  }

  // MARK: Messages

  /// Where the bytes with this hash are, if the archive has them.
  func blob(_ sha256: SHA256Digest) throws -> Int64? {
    try database.queryFirst("SELECT file_id FROM blobs WHERE sha256 = ?", .blob(sha256.bytes)) { $0.int64(0) }
  }

  /// Adds one batch in one transaction: the blobs it stored, the message rows, the new
  /// committed lengths of the data file and manifest, and the folder's next UID.
  func commit(
    folder: Int64, nextUID: UInt32, file: CatalogFile, blobs: [CatalogBlob], rows: [CatalogRow]
  ) throws {
    try database.transaction {
      for blob in blobs {
        try database.run(
          """
          INSERT OR IGNORE INTO blobs (sha256, size, file_id, member_offset, record_offset, record_length)
          VALUES (?, ?, ?, ?, ?, ?)
          """, .blob(blob.sha256.bytes), .int(blob.size), .integer(blob.fileID), .int(blob.memberOffset),
          .int(blob.recordOffset), .int(blob.recordLength))
      }
      for row in rows { try insert(row, folder: folder) }
      CrashPoint.insideCatalogCommit.reached()
      try database.run(
        "UPDATE files SET data_length = ?, manifest_length = ? WHERE id = ?", .int(file.dataLength),
        .int(file.manifestLength), .integer(file.id))
      try database.run("UPDATE folders SET next_uid = ? WHERE id = ?", .integer(Int64(nextUID)), .integer(folder))
    }
  }

  /// `replacing`: a later row for the same folder and UID wins (reindex reads lines in order).
  func insert(replacing: Bool = false, _ row: CatalogRow, folder: Int64) throws {
    try database.run(
      """
      INSERT \(replacing ? "OR REPLACE " : "")INTO messages (folder_id, uid, sha256, message_id, subject, from_address, flags, internal_date,
        zone_minutes, source_account, source_folder, source_validity, source_uid, source_name, first_seen, last_seen)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """, .integer(folder), .integer(Int64(row.uid)), .blob(row.sha256.bytes), .optionalText(row.messageID),
      .optionalText(row.subject), .optionalText(row.from), .text(row.flags.joined(separator: " ")),
      .optionalInt(row.internalDate), .int(row.zoneMinutes), .optionalText(row.origin?.account),
      .optionalText(row.origin?.folder), .optionalInt(row.origin.map { Int64($0.validity) }),
      .optionalInt(row.origin.map { Int64($0.uid) }), .optionalText(row.origin?.name), .integer(row.firstSeen),
      .integer(row.lastSeen))
  }

  func count(folder: Int64) throws -> Int {
    try database.queryFirst("SELECT count(*) FROM messages WHERE folder_id = ?", .integer(folder)) { $0.int(0) } ?? 0
  }

  func uids(folder: Int64, after: UInt32) throws -> [UInt32] {
    try database.query(
      "SELECT uid FROM messages WHERE folder_id = ? AND uid > ? ORDER BY uid", .integer(folder),
      .integer(Int64(after))
    ) { UInt32(truncatingIfNeeded: $0.int64(0)) }
  }

  static let messageColumns = """
    f.name, m.uid, m.sha256, b.size, m.message_id, m.subject, m.from_address, m.flags, m.internal_date,
    m.zone_minutes, m.source_account, m.source_folder, m.source_validity, m.source_uid, m.source_name, m.first_seen,
    m.last_seen, bf.directory, fl.name, b.member_offset, b.record_offset, b.record_length
    """
  static let messageJoins = """
    FROM messages m JOIN folders f ON f.id = m.folder_id JOIN blobs b ON b.sha256 = m.sha256
    JOIN files fl ON fl.id = b.file_id JOIN folders bf ON bf.id = fl.folder_id
    """

  /// Catalog rows matching `condition` (SQL over `m`, `f`, `b`), in folder and UID order.
  func messages(where condition: String, _ bindings: [SQLiteValue]) throws -> [ArchivedMessage] {
    try database.query(
      "SELECT \(Self.messageColumns) \(Self.messageJoins) WHERE \(condition) ORDER BY f.name, m.uid",
      bindings: bindings, row: Self.message)
  }

  func messages(folder: Int64, uids: [UInt32]) throws -> [ArchivedMessage] {
    var result: [ArchivedMessage] = []
    for start in stride(from: 0, to: uids.count, by: 500) {
      let chunk = uids[start..<min(uids.count, start + 500)]
      result += try messages(
        where: "m.folder_id = ? AND m.uid IN (\(chunk.map { _ in "?" }.joined(separator: ",")))",
        [.integer(folder)] + chunk.map { .integer(Int64($0)) })
    }
    return result
  }

  static func message(_ row: SQLiteRow) -> ArchivedMessage {
    var origin: ArchiveOrigin?
    if let account = row.optionalText(10) {
      origin = ArchiveOrigin(
        account: account, folder: row.text(11), validity: UInt32(truncatingIfNeeded: row.int64(12)),
        uid: UInt32(truncatingIfNeeded: row.int64(13)), name: row.optionalText(14))
    }
    return ArchivedMessage(
      folder: row.text(0), uid: UInt32(truncatingIfNeeded: row.int64(1)), sha256: SHA256Digest(bytes: row.blob(2)),
      size: row.int(3), messageID: row.optionalText(4), subject: row.optionalText(5), from: row.optionalText(6),
      flags: row.text(7).split(separator: " ").map(String.init), internalDate: row.optionalInt64(8),
      zoneMinutes: row.int(9), origin: origin, firstSeen: row.int64(15), lastSeen: row.int64(16),
      location: RecordLocation(
        directory: row.text(17), file: row.text(18), memberOffset: row.int(19), recordOffset: row.int(20),
        recordLength: row.int(21)))
  }

  /// Callers hold a transaction.
  func setFlags(folder: Int64, _ changes: [(uid: UInt32, flags: [String])]) throws {
    for change in changes {
      try database.run(
        "UPDATE messages SET flags = ? WHERE folder_id = ? AND uid = ?", .text(change.flags.joined(separator: " ")),
        .integer(folder), .integer(Int64(change.uid)))
    }
  }

  /// Sets `last_seen` of the messages that came from these source messages. Callers hold a
  /// transaction.
  func markPresent(
    account: String, folder: String, validity: UInt32, uids: [ClosedRange<UInt32>], at time: Int64
  )
    throws
  {
    for range in uids {
      try database.run(
        """
        UPDATE messages SET last_seen = max(last_seen, ?) WHERE source_account = ? AND source_folder = ?
          AND source_validity = ? AND source_uid BETWEEN ? AND ?
        """, .integer(time), .text(account), .text(folder), .integer(Int64(validity)),
        .integer(Int64(range.lowerBound)), .integer(Int64(range.upperBound)))
    }
  }
}
