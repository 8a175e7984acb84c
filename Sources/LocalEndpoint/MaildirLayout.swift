import MailCore

/// The Maildir++ layout as Dovecot and Courier use it: INBOX is the root's `cur/`, `new/`
/// and `tmp/`; folder `A.B` (separator `.`) is the directory `.A.B` beside them, its name
/// written in IMAP modified UTF-7 (`Entwürfe` → `.Entw&APw-rfe`), holding its own
/// `cur/`, `new/`, `tmp/` and an empty `maildirfolder` file. A name too long for one
/// file name is shortened (`LongNames`).
enum MaildirLayout {
  static let inbox = "INBOX"
  static let separator: Character = "."
  static let subdirectories = ["cur", "new", "tmp"]

  /// A message file found in `cur/` or `new/`.
  struct Entry {
    var base: String
    var subdirectory: String
    var fileName: String
    var info: Substring? { MaildirFlags.split(fileName).info }
  }

  static func isInbox(_ folder: String) -> Bool { folder.uppercased() == inbox }

  /// Whether `path` holds a Maildir folder (a `cur/` or `new/` directory).
  static func isMaildir(_ path: String) -> Bool {
    LocalFiles.isDirectory(LocalFiles.join(path, "cur")) || LocalFiles.isDirectory(LocalFiles.join(path, "new"))
  }

  /// The folders under `root`, INBOX first (when the root itself is a Maildir), then the
  /// `.NAME` directories by name. A name that is not valid modified UTF-7 is listed as it
  /// is on disk.
  static func folders(root: String) throws -> [(name: String, path: String)] {
    guard LocalFiles.isDirectory(root) else { return [] }
    var found: [(name: String, path: String)] = []
    if isMaildir(root) { found.append((inbox, root)) }
    var subfolders: [(name: String, path: String)] = []
    for entry in try LocalFiles.list(root) where entry.hasPrefix(".") && entry.count > 1 && entry != ".." {
      let path = LocalFiles.join(root, entry)
      guard isMaildir(path) else { continue }
      let stored = LongNames.name(of: String(entry.dropFirst()), in: root)
      subfolders.append(((try? ModifiedUTF7.decode(stored)) ?? stored, path))
    }
    return found + subfolders.sorted { $0.name < $1.name }
  }

  /// The directory of `folder`: the root for INBOX, an existing folder listed under that
  /// name, else `.` + the name in modified UTF-7.
  static func directory(root: String, folder: String) throws -> String {
    if isInbox(folder) { return root }
    if let existing = try folders(root: root).first(where: { $0.name == folder && $0.path != root }) {
      return existing.path
    }
    guard !folder.isEmpty else { throw LocalStoreError.badFolderName(name: folder, reason: "the name is empty") }
    if folder.contains("/") {
      throw LocalStoreError.badFolderName(name: folder, reason: "a Maildir++ folder name cannot contain \"/\"")
    }
    if folder.split(separator: separator, omittingEmptySubsequences: false).contains(where: \.isEmpty) {
      throw LocalStoreError.badFolderName(name: folder, reason: "a level of the name is empty")
    }
    return LocalFiles.join(root, "." + LongNames.component(ModifiedUTF7.encode(folder)))
  }

  /// Keeps the full name of a folder whose directory name was shortened (`LongNames`),
  /// once `path` (from `directory(root:folder:)`) exists.
  static func recordName(root: String, folder: String, path: String) throws {
    guard !isInbox(folder) else { return }
    let level = LongNames.level(ModifiedUTF7.encode(folder))
    guard path == LocalFiles.join(root, "." + level.component) else { return }
    try LongNames.record(level, in: root)
  }

  /// The message files in a folder's `new/` and `cur/` (dot files left out), one per unique
  /// name.
  static func entries(of folder: String, unreadable: inout [String]) throws -> [Entry] {
    var entries: [Entry] = []
    var seen: Set<String> = []
    for subdirectory in ["new", "cur"] {
      let path = LocalFiles.join(folder, subdirectory)
      guard LocalFiles.isDirectory(path) else { continue }
      for name in try LocalFiles.list(path, unreadable: &unreadable).sorted() where !name.hasPrefix(".") {
        let base = MaildirFlags.split(name).base
        guard !base.isEmpty, !name.contains("\n"), seen.insert(base).inserted else { continue }
        entries.append(Entry(base: base, subdirectory: subdirectory, fileName: name))
      }
    }
    return entries
  }

  static func path(of entry: Entry, in folder: String) -> String {
    LocalFiles.join(LocalFiles.join(folder, entry.subdirectory), entry.fileName)
  }
}
