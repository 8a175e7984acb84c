import CSQLite
import Foundation
import MailCore

/// A failure reported by SQLite. The text never contains bound values: they may be
/// passwords or message data. It names the operation and SQLite's own message.
public struct SQLiteError: UserFacingError, Sendable {
  public let code: Int32
  public let operation: String
  public let message: String

  public init(code: Int32, operation: String, message: String) {
    self.code = code
    self.operation = operation
    self.message = message
  }

  public var description: String {
    "database \(operation) failed: \(message) (SQLite code \(code))"
  }

  /// A write that did not reach the disk (full, over quota, or failing): nothing committed
  /// before it is lost, and running again continues.
  public var hint: String? {
    if isWriteFailure {
      return "the disk may be full: free some space and run the same command again (nothing committed was lost)"
    }
    if isBusy { return "another process holds the database; run again when it has finished" }
    return nil
  }

  /// The state or catalog database is shared by the whole job.
  public var scope: FailureScope { .job }
  public var isTemporary: Bool { isBusy }
  public var kind: FailureKind { isBusy ? .tryLater : .localIO }

  var isWriteFailure: Bool {
    isDiskFull || [778, 1034, 1546].contains(code)  // SQLITE_IOERR_WRITE, _FSYNC, _TRUNCATE
  }

  /// SQLITE_FULL: the disk is full.
  public var isDiskFull: Bool { code & 0xFF == SQLITE_FULL }
  /// SQLITE_BUSY or SQLITE_LOCKED: another process holds the database.
  public var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
}

/// One SQLite connection.
///
/// Ownership rule: an instance is used from one thread (or one serial queue) at a time;
/// `sqlite3*` handles are not thread-safe under the library's default threading mode,
/// so callers serialise access. That is why it is `@unchecked Sendable`: it may be handed
/// to the thread that owns it, never shared by two at once.
public final class SQLiteDatabase: @unchecked Sendable {
  let handle: OpaquePointer
  public let path: String
  private var statementCache: [String: SQLiteStatement] = [:]

  /// Opens (creating if needed) the database at `path` with WAL journaling, a busy
  /// timeout and foreign keys on. A new file is created with mode 0600. `readOnly` opens a
  /// database that exists for reading only (`mailferry status`): nothing is created or
  /// changed, and it reads alongside a writer.
  public init(path: String, busyTimeout: Duration = .seconds(10), readOnly: Bool = false) throws {
    self.path = path
    if path != ":memory:" && !readOnly {
      try FileSecurity.createPrivateFileIfMissing(atPath: path)
    }
    var handle: OpaquePointer?
    let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
    let status = sqlite3_open_v2(path, &handle, flags, nil)
    guard status == SQLITE_OK, let handle else {
      let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot allocate a connection"
      sqlite3_close_v2(handle)
      throw SQLiteError(code: status, operation: "open of \(path)", message: message)
    }
    self.handle = handle
    sqlite3_extended_result_codes(handle, 1)
    let milliseconds =
      busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
    sqlite3_busy_timeout(handle, Int32(clamping: milliseconds))
    if readOnly { return }
    if path != ":memory:" {
      try execute("PRAGMA journal_mode=WAL")
    }
    try execute("PRAGMA foreign_keys=ON")
    try execute("PRAGMA synchronous=NORMAL")
  }

  deinit {
    statementCache.removeAll()
    sqlite3_close_v2(handle)
  }

  /// Runs one or more statements that take no parameters and return no rows of interest.
  public func execute(_ sql: String) throws {
    var errorMessage: UnsafeMutablePointer<CChar>?
    let status = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
    if status != SQLITE_OK {
      let message = errorMessage.map { String(cString: $0) } ?? lastErrorMessage
      sqlite3_free(errorMessage)
      throw SQLiteError(
        code: status, operation: "statement \(Self.summary(of: sql)) on \(path)", message: message)
    }
  }

  /// A prepared statement, cached by its SQL text and reset for reuse.
  public func statement(_ sql: String) throws -> SQLiteStatement {
    if let cached = statementCache[sql] {
      try cached.reset()
      return cached
    }
    let statement = try SQLiteStatement(database: self, sql: sql)
    statementCache[sql] = statement
    return statement
  }

  /// Runs `sql` with `bindings`, returning nothing.
  public func run(_ sql: String, _ bindings: SQLiteValue...) throws {
    let statement = try statement(sql)
    try statement.bind(bindings)
    while try statement.step() {}
  }

  /// Runs `sql` with `bindings` and maps each row.
  public func query<T>(_ sql: String, _ bindings: SQLiteValue..., row map: (SQLiteRow) throws -> T) throws -> [T] {
    try query(sql, bindings: bindings, row: map)
  }

  /// `query` with bindings built at run time (an `IN (?, ?, …)` list).
  public func query<T>(_ sql: String, bindings: [SQLiteValue], row map: (SQLiteRow) throws -> T) throws -> [T] {
    let statement = try statement(sql)
    try statement.bind(bindings)
    var results: [T] = []
    while try statement.step() {
      results.append(try map(SQLiteRow(statement: statement)))
    }
    return results
  }

  /// The first row of `sql`, mapped, or nil when there is none.
  public func queryFirst<T>(_ sql: String, _ bindings: SQLiteValue..., row map: (SQLiteRow) throws -> T) throws -> T? {
    let statement = try statement(sql)
    try statement.bind(bindings)
    defer { try? statement.reset() }
    guard try statement.step() else { return nil }
    return try map(SQLiteRow(statement: statement))
  }

  /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws.
  public func transaction<T>(_ body: () throws -> T) throws -> T {
    try execute("BEGIN IMMEDIATE")
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
  public var changes: Int { Int(sqlite3_changes(handle)) }

  var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }

  /// The first words of a statement, enough to name it in an error without its data.
  static func summary(of sql: String) -> String {
    let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" }).prefix(4).joined(separator: " ")
    return "'\(words)…'"
  }
}

/// A value to bind to a statement parameter.
public enum SQLiteValue: Sendable {
  case null
  case integer(Int64)
  case real(Double)
  case text(String)
  case blob([UInt8])

  public static func int(_ value: Int) -> SQLiteValue { .integer(Int64(value)) }
  public static func optionalText(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
  public static func optionalInt(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }
}

/// A compiled statement. Parameters are 1-based as in SQLite; columns are 0-based.
public final class SQLiteStatement {
  private let handle: OpaquePointer
  private unowned let database: SQLiteDatabase
  private let sql: String

  init(database: SQLiteDatabase, sql: String) throws {
    var handle: OpaquePointer?
    let status = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
    guard status == SQLITE_OK, let handle else {
      throw SQLiteError(
        code: status, operation: "prepare of \(SQLiteDatabase.summary(of: sql))", message: database.lastErrorMessage)
    }
    self.handle = handle
    self.database = database
    self.sql = sql
  }

  deinit { sqlite3_finalize(handle) }

  public func reset() throws {
    sqlite3_reset(handle)
    sqlite3_clear_bindings(handle)
  }

  public func bind(_ values: [SQLiteValue]) throws {
    for (offset, value) in values.enumerated() {
      try bind(value, at: Int32(offset + 1))
    }
  }

  public func bind(_ value: SQLiteValue, at index: Int32) throws {
    let status: Int32
    switch value {
    case .null: status = sqlite3_bind_null(handle, index)
    case .integer(let int): status = sqlite3_bind_int64(handle, index, int)
    case .real(let double): status = sqlite3_bind_double(handle, index, double)
    case .text(let string): status = sqlite3_bind_text(handle, index, string, -1, mf_sqlite_transient())
    case .blob(let bytes):
      status = bytes.withUnsafeBytes { raw in
        sqlite3_bind_blob64(
          handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(raw.count), mf_sqlite_transient())
      }
    }
    guard status == SQLITE_OK else {
      throw SQLiteError(
        code: status, operation: "bind of parameter \(index) in \(SQLiteDatabase.summary(of: sql))",
        message: database.lastErrorMessage)
    }
  }

  /// Advances to the next row: true when a row is available, false when done.
  @discardableResult
  public func step() throws -> Bool {
    let status = sqlite3_step(handle)
    switch status {
    case SQLITE_ROW: return true
    case SQLITE_DONE:
      sqlite3_reset(handle)
      return false
    default:
      let message = database.lastErrorMessage
      sqlite3_reset(handle)
      throw SQLiteError(
        code: status, operation: "step of \(SQLiteDatabase.summary(of: sql)) on \(database.path)", message: message)
    }
  }

  func columnType(_ column: Int32) -> Int32 { sqlite3_column_type(handle, column) }
  func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
  func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
  func text(_ column: Int32) -> String? {
    guard let pointer = sqlite3_column_text(handle, column) else { return nil }
    return String(cString: pointer)
  }
  func blob(_ column: Int32) -> [UInt8]? {
    guard columnType(column) != SQLITE_NULL else { return nil }
    let count = Int(sqlite3_column_bytes(handle, column))
    guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
    return Array(UnsafeRawBufferPointer(start: pointer, count: count))
  }
}

/// Typed access to the current row of a statement.
public struct SQLiteRow {
  let statement: SQLiteStatement

  public func isNull(_ column: Int) -> Bool { statement.columnType(Int32(column)) == SQLITE_NULL }
  public func int64(_ column: Int) -> Int64 { statement.int64(Int32(column)) }
  public func int(_ column: Int) -> Int { Int(statement.int64(Int32(column))) }
  public func optionalInt64(_ column: Int) -> Int64? { isNull(column) ? nil : int64(column) }
  public func double(_ column: Int) -> Double { statement.double(Int32(column)) }
  public func text(_ column: Int) -> String { statement.text(Int32(column)) ?? "" }
  public func optionalText(_ column: Int) -> String? { isNull(column) ? nil : statement.text(Int32(column)) }
  public func blob(_ column: Int) -> [UInt8] { statement.blob(Int32(column)) ?? [] }
}
