import MailCore
import Mailstore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A Maildir++ directory written as a `MessageSink`, laid out as Dovecot and Courier read it
/// (`MaildirLayout`). One instance belongs to one thread at a time.
///
/// Storing a message: its bytes, exactly as given (a spooled body in chunks), go to
/// `tmp/UNIQUE.mailferry`, which is synced with its mtime set to the INTERNALDATE and renamed to `cur/UNIQUE:2,FLAGS`; after
/// the batch `cur/` is synced and the ids are appended to the folder's `mailferry-uidlist`
/// (`MaildirUIDList`). Ids and validity come from that list, so they hold across runs.
/// Keywords get Dovecot's letters a–z through `dovecot-keywords`; while all 26 are taken,
/// PERMANENTFLAGS lacks `\*` and the engine reports keywords it leaves out.
///
/// After a kill: `tmp/*.mailferry` files are deleted at the next open for writing (as are
/// other programs' `tmp/` files older than 36 hours, the Maildir rule); a message already
/// renamed into `cur/` but missing from the uidlist gets a new id at that open, and the
/// engine's inventory then finds it by content, so it is not stored twice.
public final class MaildirSink: MessageSink, @unchecked Sendable {
  public let root: String
  /// Keywords that found no free letter (Dovecot keeps 26 per folder) and were not stored.
  public private(set) var droppedKeywords: Set<String> = []
  /// Temporary files of killed runs deleted at the last open.
  public private(set) var removedTemporaryFiles = 0

  private var current: MaildirFolder?
  private var writable = false
  private var uidList = MaildirUIDList(validity: 0)
  private var counter = 0

  static let temporarySuffix = ".mailferry"
  /// Other programs' files in `tmp/` older than this are leftovers (the Maildir rule).
  static let staleTemporaryAge: Int64 = 36 * 3600

  /// `root` is created when the first folder is opened for writing. An existing directory
  /// must be empty or a Maildir, so mail is never scattered into an unrelated directory.
  /// `checkingLayout` false skips that check, for the job's further workers: the first one
  /// checked, and a sibling may be half-way through creating the first folder.
  public init(root: String, checkingLayout: Bool = true) throws {
    self.root = root
    guard checkingLayout, let status = try LocalFiles.status(root) else { return }
    guard status.isDirectory else { throw LocalStoreError.notADirectory(path: root) }
    let holdsOther = !(try LocalFiles.list(root)).isEmpty
    if try holdsOther && MaildirLayout.folders(root: root).isEmpty {
      throw LocalStoreError.notAMaildir(path: root)
    }
  }

  public func folders() throws -> [FolderDescriptor] {
    try MaildirLayout.folders(root: root).map { FolderDescriptor(name: $0.name, separator: MaildirLayout.separator) }
  }

  public func separator() throws -> Character? { MaildirLayout.separator }

  public func personalPrefix() throws -> String { "" }

  public func open(_ folder: String, forWriting: Bool) throws -> SinkFolderState? {
    current = nil
    let path = try MaildirLayout.directory(root: root, folder: folder)
    if forWriting {
      try create(path, inbox: MaildirLayout.isInbox(folder))
      try MaildirLayout.recordName(root: root, folder: folder, path: path)
      removedTemporaryFiles = try removeTemporaryFiles(in: path)
    } else if !MaildirLayout.isMaildir(path) {
      return nil
    }
    let opened = try MaildirFolder(name: folder, path: path)
    let loaded = try MaildirUIDList.load(folder: path)
    var list = loaded ?? .fresh()
    var unknown: [(entry: MaildirLayout.Entry, modified: Int64)] = []
    var present: Set<String> = []
    for entry in try opened.listEntries() {
      present.insert(entry.base)
      if let uid = list.uids[entry.base] {
        opened.files[uid] = entry
      } else {
        unknown.append((entry, try LocalFiles.status(opened.path(of: entry))?.modified ?? 0))
      }
    }
    let vanished = list.uids.keys.filter { !present.contains($0) }
    for base in vanished { list.uids[base] = nil }
    // Messages the list does not know (delivered by others, or stored by a killed run)
    // get ids in arrival order.
    for found in unknown.sorted(by: { ($0.modified, $0.entry.fileName) < ($1.modified, $1.entry.fileName) }) {
      opened.files[try list.assign(found.entry.base, folder: path)] = found.entry
    }
    if forWriting && (loaded == nil || list.hadTornLine || !vanished.isEmpty || !unknown.isEmpty) {
      list.hadTornLine = false
      try list.write(folder: path)
    }
    current = opened
    writable = forWriting
    uidList = list
    return SinkFolderState(
      validity: list.validity, count: opened.files.count, permanentFlags: Self.permanentFlags(opened.keywords))
  }

  static func permanentFlags(_ keywords: DovecotKeywords) -> [String] {
    MaildirFlags.permanent + keywords.names.keys.sorted().map { keywords.names[$0]! } + (keywords.isFull ? [] : ["\\*"])
  }

  public func inventory(skipping known: Set<UInt32>, visit: (StoredMessage) throws -> Void) throws {
    let folder = try openFolder()
    for uid in folder.files.keys.sorted() where !known.contains(uid) {
      guard let found = try folder.withFile(uid, MessageFileHashing.fingerprint) else { continue }
      try visit(StoredMessage(id: uid, sha256: found.sha256, messageID: found.messageID))
    }
  }

  public func store(_ messages: [MessageToStore]) throws -> [StoreOutcome] {
    let folder = try openFolder(forWriting: true)
    let cur = folder.subdirectory("cur")
    let tmp = folder.subdirectory("tmp")
    var outcomes: [StoreOutcome] = []
    var added: [(uid: UInt32, base: String)] = []
    func finish() throws {
      guard !added.isEmpty else { return }
      try LocalFiles.syncDirectory(cur)
      try MaildirUIDList.append(added, folder: folder.path)
    }
    do {
      for message in messages {
        let base = uniqueName(size: message.body.count)
        let info = try MaildirFlags.info(for: message.flags, keywords: &folder.keywords) {
          droppedKeywords.insert($0)
        }
        let temporary = LocalFiles.join(tmp, base + Self.temporarySuffix)
        try LocalFiles.createFile(temporary, body: message.body, modified: message.receivedDate?.secondsSince1970)
        let name = MaildirFlags.fileName(base: base, info: info)
        do {
          try LocalFiles.rename(temporary, to: LocalFiles.join(cur, name))
        } catch {
          _ = try? LocalFiles.remove(temporary)
          throw error
        }
        let uid = try uidList.assign(base, folder: folder.path)
        folder.files[uid] = MaildirLayout.Entry(base: base, subdirectory: "cur", fileName: name)
        added.append((uid, base))
        outcomes.append(.stored(id: uid))
      }
    } catch {
      // What was renamed into cur/ is kept; its ids are recorded if the disk still allows.
      try? finish()
      throw error
    }
    try finish()
    return outcomes
  }

  public var readBackDepth: ReadBackDepth? { .content }

  public func readBack(_ ids: [UInt32], depth: ReadBackDepth) throws -> [UInt32: StoredCopy] {
    let folder = try openFolder()
    var copies: [UInt32: StoredCopy] = [:]
    for id in ids {
      if let copy = try folder.withFile(id, { try MessageFileHashing.storedCopy($0, depth: depth) }) {
        copies[id] = copy
      }
    }
    return copies
  }

  public func storedBytes(of id: UInt32, atMost limit: UInt64) throws -> [UInt8]? {
    try openFolder().withFile(id, MessageFileHashing.contents)
  }

  public func storedBody(of id: UInt32, atMost limit: UInt64, spooling policy: SpoolPolicy) throws -> MessageBody? {
    try openFolder().withFile(id) { try LocalFiles.readBody($0, spooling: policy) }
  }

  public func flags(of ids: [UInt32]) throws -> [UInt32: [String]] {
    let folder = try openFolder()
    var flags: [UInt32: [String]] = [:]
    for id in ids {
      guard try folder.locate(id) != nil else { continue }
      flags[id] = folder.flags(of: id)
    }
    return flags
  }

  /// Renames each file to its new info letters (moving it to `cur/` if it was in `new/`).
  public func setFlags(_ changes: [(id: UInt32, flags: [String])]) throws {
    let folder = try openFolder(forWriting: true)
    var touched: Set<String> = []
    for change in changes {
      guard let path = try folder.locate(change.id), let entry = folder.files[change.id] else { continue }
      let info = try MaildirFlags.info(for: change.flags, keywords: &folder.keywords) {
        droppedKeywords.insert($0)
      }
      let name = MaildirFlags.fileName(base: entry.base, info: info)
      if entry.subdirectory == "cur" && entry.fileName == name { continue }
      try LocalFiles.rename(path, to: LocalFiles.join(folder.subdirectory("cur"), name))
      folder.files[change.id] = MaildirLayout.Entry(base: entry.base, subdirectory: "cur", fileName: name)
      touched.formUnion(["cur", entry.subdirectory])
    }
    for subdirectory in touched.sorted() { try LocalFiles.syncDirectory(folder.subdirectory(subdirectory)) }
  }

  public func close() { current = nil }
  public func abandon() { current = nil }

  // MARK: Helpers

  private func openFolder(forWriting: Bool = false) throws -> MaildirFolder {
    guard let current, writable || !forWriting else { throw LocalStoreError.noFolderOpen(store: root) }
    return current
  }

  /// Creates the folder's directories (and `maildirfolder` for a subfolder) where missing.
  private func create(_ path: String, inbox: Bool) throws {
    for subdirectory in MaildirLayout.subdirectories {
      try LocalFiles.makeDirectory(LocalFiles.join(path, subdirectory))
    }
    let marker = LocalFiles.join(path, "maildirfolder")
    if !inbox && !LocalFiles.exists(marker) {
      try LocalFiles.createFile(marker, contents: [])
      try LocalFiles.syncDirectory(path)
    }
  }

  /// Deletes what killed runs left in `tmp/`: MailFerry's own files, and other files older
  /// than 36 hours.
  private func removeTemporaryFiles(in path: String) throws -> Int {
    let tmp = LocalFiles.join(path, "tmp")
    var removed = 0
    let now = LocalFiles.now()
    for name in try LocalFiles.list(tmp) {
      let file = LocalFiles.join(tmp, name)
      guard let status = try LocalFiles.status(file), status.isRegular else { continue }
      if name.hasSuffix(Self.temporarySuffix) || now - status.modified > Self.staleTemporaryAge {
        if try LocalFiles.remove(file) { removed += 1 }
      }
    }
    if removed > 0 { try LocalFiles.syncDirectory(tmp) }
    return removed
  }

  /// `SECONDS.MMICROSECONDSPPIDQCOUNTERRRANDOM.HOST,S=SIZE`: unique across processes,
  /// hosts and this instance; `S=` lets Dovecot skip a stat.
  private func uniqueName(size: Int) -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    counter += 1
    let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
    return "\(now.tv_sec).M\(now.tv_nsec / 1000)P\(getpid())Q\(counter)R\(random).\(Self.hostName),S=\(size)"
  }

  /// The host name with `/`, `:` and `,` escaped as the Maildir convention has it.
  static let hostName: String = {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    let name = String(decoding: bytes, as: UTF8.self)
    var escaped = ""
    for character in name {
      switch character {
      case "/": escaped += "\\057"
      case ":": escaped += "\\072"
      case ",": escaped += "\\054"
      default: escaped.append(character)
      }
    }
    return escaped.isEmpty ? "localhost" : escaped
  }()
}
