import MailCore
import Storage

/// One folder as `archive list` shows it.
public struct ArchiveFolderSummary: Sendable, Equatable {
  public var name: String
  public var specialUse: String?
  public var messages: Int
  /// Bytes of the messages as the source had them, copy for copy.
  public var bytes: Int
  /// Compressed bytes of the folder's data files (messages stored once, in the folder that
  /// first had them).
  public var storedBytes: Int
  public var oldest: Int64?
  public var newest: Int64?
}

/// What to look for with `archive search`; every given criterion must match.
public struct ArchiveQuery: Sendable {
  public var messageID: String?
  /// Substring of the From address, case-insensitive.
  public var from: String?
  /// Substring of the Subject, case-insensitive.
  public var subject: String?
  /// INTERNALDATE bounds (since inclusive, before exclusive).
  public var since: Int64?
  public var before: Int64?
  public var folder: String?

  public init() {}
}

extension Archive {
  public func summaries() throws -> [ArchiveFolderSummary] {
    try catalog.database.query(
      """
      SELECT f.name, f.special_use, count(m.uid), coalesce(sum(b.size), 0), min(m.internal_date), max(m.internal_date),
        (SELECT coalesce(sum(data_length), 0) FROM files WHERE folder_id = f.id)
      FROM folders f LEFT JOIN messages m ON m.folder_id = f.id LEFT JOIN blobs b ON b.sha256 = m.sha256
      GROUP BY f.id ORDER BY f.name
      """
    ) {
      ArchiveFolderSummary(
        name: $0.text(0), specialUse: $0.optionalText(1), messages: $0.int(2), bytes: $0.int(3), storedBytes: $0.int(6),
        oldest: $0.optionalInt64(4), newest: $0.optionalInt64(5))
    }
  }

  /// Catalog rows matching `query`, in folder and UID order.
  public func search(_ query: ArchiveQuery) throws -> [ArchivedMessage] {
    var conditions: [String] = []
    var bindings: [SQLiteValue] = []
    if let messageID = query.messageID {
      let wanted = messageID.contains("<") ? messageID : "<\(messageID)>"
      conditions.append("m.message_id = ?")
      bindings.append(.text(MessageID(fieldValue: wanted)?.normalized ?? messageID))
    }
    // SQLite's lower() folds ASCII only: text with other letters is matched here instead.
    var matchHere: [(KeyPath<ArchivedMessage, String?>, String)] = []
    for (column, text, path) in [
      ("m.from_address", query.from, \ArchivedMessage.from), ("m.subject", query.subject, \ArchivedMessage.subject),
    ] {
      guard let text else { continue }
      if text.unicodeScalars.allSatisfy(\.isASCII) {
        conditions.append("instr(lower(\(column)), lower(?)) > 0")
        bindings.append(.text(text))
      } else {
        matchHere.append((path, text.lowercased()))
      }
    }
    if let since = query.since {
      conditions.append("m.internal_date >= ?")
      bindings.append(.integer(since))
    }
    if let before = query.before {
      conditions.append("m.internal_date < ?")
      bindings.append(.integer(before))
    }
    if let folder = query.folder {
      conditions.append("f.name = ?")
      bindings.append(.text(folder))
    }
    let found = try catalog.messages(where: conditions.isEmpty ? "1" : conditions.joined(separator: " AND "), bindings)
    guard !matchHere.isEmpty else { return found }
    return found.filter { message in
      matchHere.allSatisfy { path, text in message[keyPath: path]?.lowercased().contains(text) == true }
    }
  }
}
