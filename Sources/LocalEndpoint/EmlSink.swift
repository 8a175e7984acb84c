import MailCore
import Mailstore

/// A directory of `.eml` files written as a `MessageSink`: folder `A/B` (separator `/`) is
/// the directory `DIR/A/B`, INBOX is `DIR/INBOX`, and each message is a file `000001.eml`,
/// `000002.eml`, … holding its bytes exactly, with its mtime set to the INTERNALDATE.
///
/// A message is written to a hidden temporary file, synced and renamed; after a batch the
/// directory is synced. Ids are the file numbers. A small `.mailferry-validity` file per
/// folder (`V<validity> N<next number>`) keeps the validity and makes sure a number is never
/// given twice, even after files are deleted. Temporary files a killed run left are deleted
/// at the next open for writing; a file renamed just before a kill has a number the engine
/// never learnt, so the inventory finds it by content. Flags are not kept: `flags(of:)`
/// answers nothing, `setFlags` does nothing, and PERMANENTFLAGS is empty.
public final class EmlSink: MessageSink, @unchecked Sendable {
  public let root: String

  private var folderPath: String?
  private var writable = false
  private var validity: UInt32 = 0
  private var next: UInt32 = 1
  /// id → file name.
  private var files: [UInt32: String] = [:]

  static let separator: Character = "/"
  static let stateFileName = ".mailferry-validity"
  static let temporaryPrefix = ".mailferry-tmp."

  /// `directory` is created when the first folder is opened for writing.
  public init(directory: String) throws {
    root = directory
    if let status = try LocalFiles.status(directory), !status.isDirectory {
      throw LocalStoreError.notADirectory(path: directory)
    }
  }

  public func folders() throws -> [FolderDescriptor] {
    guard LocalFiles.isDirectory(root) else { return [] }
    var names: [String] = []
    func walk(_ directory: String, prefix: String, depth: Int) throws {
      guard depth < MboxTree.maximumDepth else { return }
      for name in try LocalFiles.list(directory).sorted() where !name.hasPrefix(".") {
        let path = LocalFiles.join(directory, name)
        guard LocalFiles.isDirectory(path) else { continue }
        let folder = prefix + LongNames.name(of: name, in: directory)
        names.append(folder)
        try walk(path, prefix: folder + "/", depth: depth + 1)
      }
    }
    try walk(root, prefix: "", depth: 0)
    return names.sorted().map { FolderDescriptor(name: $0, separator: Self.separator) }
  }

  public func separator() throws -> Character? { Self.separator }

  public func personalPrefix() throws -> String { "" }

  public func open(_ folder: String, forWriting: Bool) throws -> SinkFolderState? {
    folderPath = nil
    files = [:]
    let (path, levels) = try directory(of: folder)
    if !LocalFiles.isDirectory(path) {
      guard forWriting else { return nil }
      try LocalFiles.makeDirectory(path)
    }
    if forWriting { for (parent, level) in levels { try LongNames.record(level, in: parent) } }
    var highest: UInt32 = 0
    for name in try LocalFiles.list(path) {
      if forWriting && name.hasPrefix(Self.temporaryPrefix) {
        try LocalFiles.remove(LocalFiles.join(path, name))
      } else if let number = Self.number(of: name) {
        files[number] = name
        highest = max(highest, number)
      }
    }
    let statePath = LocalFiles.join(path, Self.stateFileName)
    if let state = try Self.readState(statePath) {
      (validity, next) = state
    } else {
      validity = UInt32.random(in: 1...UInt32.max)
      next = 1
    }
    next = max(next, highest == UInt32.max ? highest : highest + 1)
    if forWriting { try writeState(in: path) }
    folderPath = path
    writable = forWriting
    return SinkFolderState(validity: validity, count: files.count, permanentFlags: [])
  }

  public func inventory(skipping known: Set<UInt32>, visit: (StoredMessage) throws -> Void) throws {
    let path = try openFolder()
    for (id, name) in files.sorted(by: { $0.key < $1.key }) where !known.contains(id) {
      guard let found = try MessageFileHashing.fingerprint(LocalFiles.join(path, name)) else { continue }
      try visit(StoredMessage(id: id, sha256: found.sha256, messageID: found.messageID))
    }
  }

  public func store(_ messages: [MessageToStore]) throws -> [StoreOutcome] {
    let path = try openFolder(forWriting: true)
    guard !messages.isEmpty else { return [] }
    var outcomes: [StoreOutcome] = []
    func finish() throws {
      try LocalFiles.syncDirectory(path)
      try writeState(in: path)
    }
    do {
      for message in messages {
        var number = next
        while LocalFiles.exists(LocalFiles.join(path, Self.fileName(number))) {
          guard number < UInt32.max else {
            throw LocalStoreError.damagedIndex(path: path, reason: "no file number left")
          }
          number += 1
        }
        let temporary = LocalFiles.join(path, Self.temporaryPrefix + "\(number).\(UInt32.random(in: 0...UInt32.max))")
        try LocalFiles.createFile(temporary, body: message.body, modified: message.receivedDate?.secondsSince1970)
        do {
          try LocalFiles.rename(temporary, to: LocalFiles.join(path, Self.fileName(number)))
        } catch {
          _ = try? LocalFiles.remove(temporary)
          throw error
        }
        files[number] = Self.fileName(number)
        next = number == UInt32.max ? number : number + 1
        outcomes.append(.stored(id: number))
      }
    } catch {
      if !outcomes.isEmpty { try? finish() }
      throw error
    }
    try finish()
    return outcomes
  }

  public var readBackDepth: ReadBackDepth? { .content }

  public func readBack(_ ids: [UInt32], depth: ReadBackDepth) throws -> [UInt32: StoredCopy] {
    let path = try openFolder()
    var copies: [UInt32: StoredCopy] = [:]
    for id in ids {
      guard let name = files[id],
        let copy = try MessageFileHashing.storedCopy(LocalFiles.join(path, name), depth: depth)
      else { continue }
      copies[id] = copy
    }
    return copies
  }

  public func storedBytes(of id: UInt32, atMost limit: UInt64) throws -> [UInt8]? {
    let path = try openFolder()
    return try files[id].flatMap { try MessageFileHashing.contents(LocalFiles.join(path, $0)) }
  }

  public func storedBody(of id: UInt32, atMost limit: UInt64, spooling policy: SpoolPolicy) throws -> MessageBody? {
    let path = try openFolder()
    return try files[id].flatMap { try LocalFiles.readBody(LocalFiles.join(path, $0), spooling: policy) }
  }

  /// .eml files keep no flags.
  public func flags(of ids: [UInt32]) throws -> [UInt32: [String]] { [:] }

  /// .eml files keep no flags.
  public func setFlags(_ changes: [(id: UInt32, flags: [String])]) throws {}

  public func close() { folderPath = nil }
  public func abandon() { folderPath = nil }

  // MARK: Helpers

  /// `000042.eml` for 42 (more digits past 999999).
  static func fileName(_ number: UInt32) -> String {
    let digits = String(number)
    return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".eml"
  }

  static func number(of fileName: String) -> UInt32? {
    guard fileName.hasSuffix(".eml") else { return nil }
    let digits = fileName.dropLast(4)
    guard !digits.isEmpty, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let number = UInt32(digits), number > 0 else {
      return nil
    }
    return number
  }

  private func openFolder(forWriting: Bool = false) throws -> String {
    guard let folderPath, writable || !forWriting else { throw LocalStoreError.noFolderOpen(store: root) }
    return folderPath
  }

  /// `DIR/A/B` for `A/B` (`DIR/INBOX` for INBOX in any case); levels must be non-empty and
  /// not start with `.`.
  /// The folder's directory, with each level and the directory it is in.
  private func directory(
    of folder: String
  ) throws -> (
    path: String, levels: [(directory: String, level: LongNames.Level)]
  ) {
    var path = root
    var levels: [(directory: String, level: LongNames.Level)] = []
    let name = MaildirLayout.isInbox(folder) ? MaildirLayout.inbox : folder
    for level in name.split(separator: Self.separator, omittingEmptySubsequences: false) {
      if level.isEmpty {
        throw LocalStoreError.badFolderName(name: folder, reason: "a level of the name is empty")
      }
      if level.hasPrefix(".") || level.contains("\0") {
        throw LocalStoreError.badFolderName(name: folder, reason: "a level of the name starts with \".\"")
      }
      // A control character in a folder name would end up in a file name: written as %XX.
      let written = LongNames.level(ControlCharacters.percentEncoded(String(level)))
      levels.append((path, written))
      path = LocalFiles.join(path, written.component)
    }
    return (path, levels)
  }

  private static func readState(_ path: String) throws -> (validity: UInt32, next: UInt32)? {
    guard LocalFiles.exists(path) else { return nil }
    let text = String(decoding: try LocalFiles.readAll(path), as: UTF8.self)
    let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard fields.count == 2, fields[0].first == "V", fields[1].first == "N",
      let validity = UInt32(fields[0].dropFirst()), let next = UInt32(fields[1].dropFirst())
    else { throw LocalStoreError.damagedIndex(path: path, reason: "it does not read \"V<validity> N<next number>\"") }
    return (validity, next)
  }

  private func writeState(in path: String) throws {
    try LocalFiles.replaceFile(
      LocalFiles.join(path, Self.stateFileName), contents: Array("V\(validity) N\(next)\n".utf8))
  }
}
