/// An open Maildir folder as a sink or source keeps it: where it is, its keywords and where
/// each message's file is. Files are renamed by other programs when flags change, so a file
/// that is not where it was is looked for again by its unique name.
final class MaildirFolder {
  let name: String
  let path: String
  var keywords: DovecotKeywords
  /// id or key → file.
  var files: [UInt32: MaildirLayout.Entry] = [:]
  /// Directory entries whose names are not valid UTF-8, left out.
  var unreadable: [String] = []

  init(name: String, path: String) throws {
    self.name = name
    self.path = path
    keywords = try DovecotKeywords(directory: path)
  }

  func subdirectory(_ name: String) -> String { LocalFiles.join(path, name) }

  func path(of entry: MaildirLayout.Entry) -> String { MaildirLayout.path(of: entry, in: path) }

  func listEntries() throws -> [MaildirLayout.Entry] {
    var unreadable: [String] = []
    let entries = try MaildirLayout.entries(of: path, unreadable: &unreadable)
    self.unreadable = unreadable
    return entries
  }

  /// Finds every known message's file again.
  func rescan() throws {
    var byBase: [String: MaildirLayout.Entry] = [:]
    for entry in try listEntries() { byBase[entry.base] = entry }
    for (id, entry) in files { files[id] = byBase[entry.base] }
  }

  /// The path of message `id`, looked for again if its file moved; nil when it is gone.
  func locate(_ id: UInt32) throws -> String? {
    guard let entry = files[id] else { return nil }
    let path = path(of: entry)
    if LocalFiles.exists(path) { return path }
    try rescan()
    return files[id].map { self.path(of: $0) }
  }

  /// Runs `body` on the file of message `id`; `body` answers nil when the file vanished
  /// under it, and is then tried once more where the file went. Nil when it is gone.
  func withFile<Result>(_ id: UInt32, _ body: (String) throws -> Result?) throws -> Result? {
    for attempt in 0..<2 {
      guard let path = try locate(id) else { return nil }
      if let result = try body(path) { return result }
      if attempt == 0 { try rescan() }
    }
    return nil
  }

  func flags(of id: UInt32) -> [String]? {
    files[id].map { MaildirFlags.flags(info: $0.info, keywords: keywords) }
  }
}
