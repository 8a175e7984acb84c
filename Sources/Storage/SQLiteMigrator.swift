/// Named schema migrations, applied in order and recorded in the database itself
/// (`schema_migrations`), so opening an older file upgrades it exactly once.
public struct SQLiteMigrator: Sendable {
  public struct Migration: Sendable {
    public let name: String
    public let sql: String
    public init(_ name: String, sql: String) {
      self.name = name
      self.sql = sql
    }
  }

  public let migrations: [Migration]

  public init(_ migrations: [Migration]) {
    precondition(Set(migrations.map(\.name)).count == migrations.count, "migration names must be unique")
    self.migrations = migrations
  }

  /// Applies every migration not yet recorded, each in its own transaction.
  /// Returns the names applied now.
  @discardableResult
  public func migrate(_ database: SQLiteDatabase) throws -> [String] {
    try database.execute(
      """
      CREATE TABLE IF NOT EXISTS schema_migrations (
        name TEXT PRIMARY KEY NOT NULL,
        applied_at INTEGER NOT NULL
      )
      """)
    let applied = Set(try database.query("SELECT name FROM schema_migrations") { $0.text(0) })
    let known = Set(migrations.map(\.name))
    if let unknown = applied.subtracting(known).sorted().first {
      throw SQLiteError(
        code: 0, operation: "migration of \(database.path)",
        message:
          "the file was written by a newer MailFerry (it has migration '\(unknown)'); upgrade MailFerry to use it")
    }
    var newlyApplied: [String] = []
    for migration in migrations where !applied.contains(migration.name) {
      try database.transaction {
        try database.execute(migration.sql)
        try database.run(
          "INSERT INTO schema_migrations (name, applied_at) VALUES (?, strftime('%s','now'))", .text(migration.name))
      }
      newlyApplied.append(migration.name)
    }
    return newlyApplied
  }

  /// Names of migrations recorded in `database`, in the order applied.
  public static func appliedMigrations(_ database: SQLiteDatabase) throws -> [String] {
    try database.query("SELECT name FROM schema_migrations ORDER BY rowid") { $0.text(0) }
  }
}
