import Storage

/// The catalog's schema, as named migrations. docs/archive-format.md describes it; change
/// both together, and only by adding migrations. Everything here can be rebuilt from the
/// data files and their manifests (`mailferry archive reindex`).
enum CatalogSchema {
  static let migrator = SQLiteMigrator([
    .init(
      "001-catalog",
      sql: """
        CREATE TABLE folders (
          id INTEGER PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          directory TEXT NOT NULL UNIQUE,
          validity INTEGER NOT NULL,
          special_use TEXT,
          next_uid INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE files (
          id INTEGER PRIMARY KEY,
          folder_id INTEGER NOT NULL REFERENCES folders (id),
          name TEXT NOT NULL,
          data_length INTEGER NOT NULL DEFAULT 0,
          manifest_length INTEGER NOT NULL DEFAULT 0,
          UNIQUE (folder_id, name)
        );
        CREATE TABLE blobs (
          sha256 BLOB PRIMARY KEY,
          size INTEGER NOT NULL,
          file_id INTEGER NOT NULL REFERENCES files (id),
          member_offset INTEGER NOT NULL,
          record_offset INTEGER NOT NULL,
          record_length INTEGER NOT NULL
        );
        CREATE TABLE messages (
          folder_id INTEGER NOT NULL REFERENCES folders (id),
          uid INTEGER NOT NULL,
          sha256 BLOB NOT NULL REFERENCES blobs (sha256),
          message_id TEXT,
          subject TEXT,
          from_address TEXT,
          flags TEXT NOT NULL,
          internal_date INTEGER,
          zone_minutes INTEGER NOT NULL DEFAULT 0,
          source_account TEXT,
          source_folder TEXT,
          source_validity INTEGER,
          source_uid INTEGER,
          source_name TEXT,
          first_seen INTEGER NOT NULL,
          last_seen INTEGER NOT NULL,
          PRIMARY KEY (folder_id, uid)
        );
        CREATE INDEX messages_by_hash ON messages (sha256);
        CREATE INDEX messages_by_message_id ON messages (message_id);
        CREATE INDEX messages_by_source ON messages (source_account, source_folder, source_validity, source_uid);
        """)
  ])
}
