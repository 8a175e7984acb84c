#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// MailFerry's `mailferry-uidlist` in a Maildir folder: the ids a `MaildirSink` gave its
/// messages, so they stay the same across runs.
///
/// ```
/// V<validity> N<next uid>
/// <uid> <unique part of the file name>
/// ```
///
/// Lines are appended (and synced) as messages are stored; the file is rewritten whole
/// (new file, rename) when messages have gone or new ones are found at open. A last line
/// without its line end is the trace of a killed append and is ignored.
struct MaildirUIDList {
  static let fileName = "mailferry-uidlist"

  var validity: UInt32
  var nextUID: UInt32
  /// Unique part → uid.
  var uids: [String: UInt32]
  /// The file ended in a partial line.
  var hadTornLine = false

  init(validity: UInt32, nextUID: UInt32 = 1, uids: [String: UInt32] = [:]) {
    self.validity = validity
    self.nextUID = nextUID
    self.uids = uids
  }

  static func path(in folder: String) -> String { LocalFiles.join(folder, fileName) }

  /// A new list with a random validity.
  static func fresh() -> MaildirUIDList { MaildirUIDList(validity: UInt32.random(in: 1...UInt32.max)) }

  /// The folder's list, or nil when it has none.
  static func load(folder: String) throws -> MaildirUIDList? {
    let path = path(in: folder)
    guard LocalFiles.exists(path) else { return nil }
    var bytes = try LocalFiles.readAll(path)
    var torn = false
    if let lastLineEnd = bytes.lastIndex(of: 0x0A) {
      torn = lastLineEnd != bytes.count - 1
      bytes.removeSubrange((lastLineEnd + 1)...)
    } else {
      torn = !bytes.isEmpty
      bytes = []
    }
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
      .dropLast()
    guard let header = lines.first else {
      // Killed while the file was first written: nothing in it was relied on yet.
      var list = fresh()
      list.hadTornLine = true
      return list
    }
    let fields = header.split(separator: " ")
    guard fields.count >= 2, fields[0].first == "V", fields[1].first == "N",
      let validity = UInt32(fields[0].dropFirst()), let next = UInt32(fields[1].dropFirst())
    else { throw LocalStoreError.damagedIndex(path: path, reason: "the first line is not \"V<validity> N<next uid>\"") }
    var list = MaildirUIDList(validity: validity, nextUID: next)
    list.hadTornLine = torn
    var used: Set<UInt32> = []
    for (number, line) in lines.dropFirst().enumerated() {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2, let uid = UInt32(parts[0]), uid > 0, used.insert(uid).inserted else {
        throw LocalStoreError.damagedIndex(path: path, reason: "line \(number + 2) is not \"<uid> <file name>\"")
      }
      list.uids[String(parts[1])] = uid
      if uid >= list.nextUID { list.nextUID = uid == UInt32.max ? uid : uid + 1 }
    }
    return list
  }

  /// Takes the next uid for `base`.
  mutating func assign(_ base: String, folder: String) throws -> UInt32 {
    guard nextUID < UInt32.max else {
      throw LocalStoreError.damagedIndex(path: Self.path(in: folder), reason: "every uid is used up")
    }
    let uid = nextUID
    nextUID += 1
    uids[base] = uid
    return uid
  }

  /// Writes the whole list (a new file renamed over the old one).
  func write(folder: String) throws {
    var text = "V\(validity) N\(nextUID)\n"
    for (base, uid) in uids.sorted(by: { $0.value < $1.value }) { text += "\(uid) \(base)\n" }
    try LocalFiles.replaceFile(Self.path(in: folder), contents: Array(text.utf8))
  }

  /// Appends lines for newly stored messages and syncs them.
  static func append(_ entries: [(uid: UInt32, base: String)], folder: String) throws {
    guard !entries.isEmpty else { return }
    let file = try LocalFile(path: path(in: folder), flags: O_WRONLY | O_APPEND)
    try file.write(Array(entries.map { "\($0.uid) \($0.base)\n" }.joined().utf8))
    try file.sync()
  }
}
