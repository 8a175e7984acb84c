import Storage

/// The checkpoint database's schema, as named migrations. docs/checkpoint.md describes it;
/// change both together, and only by adding migrations.
enum CheckpointSchema {
  static let migrator = SQLiteMigrator([
    .init(
      "001-initial",
      sql: """
        CREATE TABLE job (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          source TEXT NOT NULL,
          target TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE runs (
          id INTEGER PRIMARY KEY,
          started_at INTEGER NOT NULL,
          finished_at INTEGER,
          outcome TEXT NOT NULL DEFAULT 'running'
        );
        CREATE TABLE folders (
          id INTEGER PRIMARY KEY,
          source_name TEXT NOT NULL UNIQUE,
          target_name TEXT NOT NULL,
          source_uidvalidity INTEGER,
          source_last_uid INTEGER NOT NULL DEFAULT 0,
          source_highest_modseq INTEGER,
          target_uidvalidity INTEGER,
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE messages (
          id INTEGER PRIMARY KEY,
          folder_id INTEGER NOT NULL REFERENCES folders (id),
          source_uidvalidity INTEGER NOT NULL,
          source_uid INTEGER NOT NULL,
          message_id TEXT,
          sha256 BLOB NOT NULL,
          size INTEGER NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('pending', 'copied', 'duplicate')),
          target_uidvalidity INTEGER,
          target_uid INTEGER,
          run_id INTEGER NOT NULL REFERENCES runs (id),
          UNIQUE (folder_id, source_uidvalidity, source_uid)
        );
        CREATE INDEX messages_by_hash ON messages (folder_id, sha256);
        CREATE INDEX messages_by_message_id ON messages (folder_id, message_id);
        CREATE INDEX messages_pending ON messages (state) WHERE state = 'pending';
        CREATE TABLE failures (
          id INTEGER PRIMARY KEY,
          folder_id INTEGER NOT NULL REFERENCES folders (id),
          source_uidvalidity INTEGER NOT NULL,
          source_uid INTEGER NOT NULL,
          reason TEXT NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 1,
          last_run_id INTEGER NOT NULL REFERENCES runs (id),
          UNIQUE (folder_id, source_uidvalidity, source_uid)
        );
        """),
    .init(
      "002-source-keys-and-commit-times",
      sql: """
        CREATE TABLE source_keys (
          folder_id INTEGER NOT NULL REFERENCES folders (id),
          identity TEXT NOT NULL,
          key INTEGER NOT NULL,
          PRIMARY KEY (folder_id, identity)
        );
        CREATE UNIQUE INDEX source_keys_by_key ON source_keys (folder_id, key);
        ALTER TABLE messages ADD COLUMN committed_at INTEGER;
        """),
    .init(
      "003-settings-and-alterations",
      sql: """
        CREATE TABLE settings (
          name TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );
        CREATE TABLE alterations (
          folder_id INTEGER NOT NULL REFERENCES folders (id),
          source_uidvalidity INTEGER NOT NULL,
          source_uid INTEGER NOT NULL,
          target_uid INTEGER,
          difference TEXT NOT NULL,
          run_id INTEGER NOT NULL REFERENCES runs (id),
          PRIMARY KEY (folder_id, source_uidvalidity, source_uid)
        );
        """),
    .init(
      "004-messages-by-content",
      sql: """
        CREATE INDEX messages_by_sha256 ON messages (sha256);
        """),
  ])
}
