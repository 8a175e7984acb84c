import Foundation
import Storage
import Testing

@Suite struct SQLiteTests {
  @Test func newFileIsPrivateAndUsesWAL() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("state/nested/job.sqlite")
    let database = try SQLiteDatabase(path: path)
    #expect(try FileSecurity.permissions(ofPath: path) == 0o600)
    #expect(try FileSecurity.permissions(ofPath: directory.file("state/nested")) == 0o700)
    #expect(try database.queryFirst("PRAGMA journal_mode") { $0.text(0) } == "wal")
  }

  @Test func typedBindingRoundTrips() throws {
    let database = try SQLiteDatabase(path: ":memory:")
    try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
    let blob: [UInt8] = [0, 1, 2, 255]
    try database.run(
      "INSERT INTO t VALUES (?, ?, ?, ?, ?)", .integer(Int64.max), .real(2.5), .text("héllo"), .blob(blob), .null)
    let row = try database.queryFirst("SELECT i, r, s, b, n FROM t") { row in
      (row.int64(0), row.double(1), row.text(2), row.blob(3), row.optionalText(4))
    }
    #expect(row?.0 == Int64.max)
    #expect(row?.1 == 2.5)
    #expect(row?.2 == "héllo")
    #expect(row?.3 == blob)
    #expect(row?.4 == nil)
  }

  @Test func transactionRollsBackWhenBodyThrows() throws {
    struct Abort: Error {}
    let database = try SQLiteDatabase(path: ":memory:")
    try database.execute("CREATE TABLE t (v INTEGER)")
    #expect(throws: Abort.self) {
      try database.transaction {
        try database.run("INSERT INTO t VALUES (?)", .int(1))
        throw Abort()
      }
    }
    try database.transaction { try database.run("INSERT INTO t VALUES (?)", .int(2)) }
    #expect(try database.query("SELECT v FROM t") { $0.int(0) } == [2])
  }

  @Test func errorsNeverShowBoundValues() throws {
    let database = try SQLiteDatabase(path: ":memory:")
    try database.execute("CREATE TABLE secrets (v TEXT UNIQUE NOT NULL)")
    try database.run("INSERT INTO secrets VALUES (?)", .text("hunter2-password"))
    do {
      try database.run("INSERT INTO secrets VALUES (?)", .text("hunter2-password"))
      Issue.record("a duplicate was accepted")
    } catch let error as SQLiteError {
      #expect(!error.description.contains("hunter2"))
      #expect(error.description.contains("UNIQUE"))
    }
  }

  @Test func syntaxErrorIsTyped() throws {
    let database = try SQLiteDatabase(path: ":memory:")
    #expect(throws: SQLiteError.self) { try database.execute("SELEC nothing") }
  }

  @Test func migrationsApplyOnceAndInOrder() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("m.sqlite")
    let first = SQLiteMigrator([.init("001-create", sql: "CREATE TABLE a (x INTEGER)")])
    let second = SQLiteMigrator(
      first.migrations + [.init("002-column", sql: "ALTER TABLE a ADD COLUMN y TEXT")])

    var database = try SQLiteDatabase(path: path)
    #expect(try first.migrate(database) == ["001-create"])
    #expect(try first.migrate(database) == [])
    database = try SQLiteDatabase(path: path)  // reopen, as the next run does
    #expect(try second.migrate(database) == ["002-column"])
    #expect(try SQLiteMigrator.appliedMigrations(database) == ["001-create", "002-column"])
    try database.run("INSERT INTO a (x, y) VALUES (?, ?)", .int(1), .text("ok"))
  }

  @Test func failedMigrationLeavesNothingBehind() throws {
    let database = try SQLiteDatabase(path: ":memory:")
    let broken = SQLiteMigrator([
      .init("001-ok", sql: "CREATE TABLE a (x INTEGER)"),
      .init("002-broken", sql: "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1)"),
    ])
    #expect(throws: SQLiteError.self) { try broken.migrate(database) }
    #expect(try SQLiteMigrator.appliedMigrations(database) == ["001-ok"])
    let tables = try database.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { $0.text(0) }
    #expect(!tables.contains("b"))
  }

  @Test func fileFromANewerVersionIsRefused() throws {
    let database = try SQLiteDatabase(path: ":memory:")
    try SQLiteMigrator([.init("001", sql: "SELECT 1"), .init("999-future", sql: "SELECT 1")]).migrate(database)
    do {
      try SQLiteMigrator([.init("001", sql: "SELECT 1")]).migrate(database)
      Issue.record("an unknown migration was accepted")
    } catch let error as SQLiteError {
      #expect(error.description.contains("newer MailFerry"))
    }
  }

  @Test func busyDatabaseWaitsThenReportsBusy() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("busy.sqlite")
    let holder = try SQLiteDatabase(path: path)
    try holder.execute("CREATE TABLE t (v INTEGER)")
    let other = try SQLiteDatabase(path: path, busyTimeout: .milliseconds(100))
    try holder.execute("BEGIN IMMEDIATE")
    do {
      try other.run("INSERT INTO t VALUES (?)", .int(1))
      Issue.record("a second writer got in during another's transaction")
    } catch let error as SQLiteError {
      #expect(error.isBusy)
    }
    try holder.execute("COMMIT")
    try other.run("INSERT INTO t VALUES (?)", .int(1))
  }
}

@Suite struct FileSecurityTests {
  @Test func errorsNameTheFixForAFullDisk() {
    let error = FileError(path: "/archive/x.gz", operation: "write", errno: ENOSPC)
    #expect(error.isDiskFull)
    #expect(error.description.contains("/archive/x.gz"))
    #expect(error.description.lowercased().contains("space"))
  }

  @Test func aStateFileOthersCouldReadIsMadePrivateWithItsCompanions() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("state.sqlite")
    do {
      let database = try SQLiteDatabase(path: path)
      try database.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
    }
    for file in [path, path + "-wal", path + "-shm"] {
      if !FileManager.default.fileExists(atPath: file) {
        _ = FileManager.default.createFile(atPath: file, contents: Data())
      }
      chmod(file, 0o644)
    }
    let reopened = try SQLiteDatabase(path: path)
    let modes = try [path, path + "-wal", path + "-shm"].map { try FileSecurity.permissions(ofPath: $0) }
    withExtendedLifetime(reopened) { #expect(modes == [0o600, 0o600, 0o600]) }
  }

  @Test func directoryInThePlaceOfAFileIsRefused() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    _ = FileManager.default.createFile(atPath: directory.file("plain"), contents: Data())
    #expect(throws: FileError.self) { try FileSecurity.createPrivateDirectory(atPath: directory.file("plain")) }
  }
}
