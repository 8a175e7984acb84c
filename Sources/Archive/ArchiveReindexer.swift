import Foundation
import MailCore
import Storage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `archive reindex` did.
public struct ReindexReport: Sendable {
  public var folders = 0
  public var files = 0
  public var messages = 0
  public var blobs = 0
  /// Repairs and losses, each naming the file.
  public var notes: [String] = []
}

/// Rebuilds `catalog.sqlite` from the data files and their manifests alone. Each data file is
/// decompressed once; every stored message is checked against its manifest line before it
/// is indexed. A torn tail is cut off and the lines that pointed into it dropped; a damaged
/// member only leaves its own messages out of the index (their lines stay in the manifest);
/// a data file without a manifest is indexed from its mbox records (without flags, under a
/// new UIDVALIDITY since its UIDs are new). Files are changed only once the new catalog is
/// complete, manifests through a temporary file and a rename, and the new catalog replaces
/// the old one in one rename. Callers hold the archive's lock.
public enum ArchiveReindexer {
  public static func reindex(path: String, progress: (String) -> Void = { _ in }) throws -> ReindexReport {
    let layout = ArchiveLayout(root: path)
    guard DurableFile.size(ofPath: layout.markerPath) != nil else { throw ArchiveError.notAnArchive(path: path) }
    let building = layout.catalogPath + ".rebuild"
    for suffix in ["", "-wal", "-shm"] { unlink(building + suffix) }
    var report = ReindexReport()
    var changes = FileChanges()
    do {
      let catalog = try ArchiveCatalog(path: building)
      var state = RebuildState()
      let directories = try FileManager.default.contentsOfDirectory(atPath: layout.foldersPath).sorted()
      for directory in directories where !directory.hasPrefix(".") {
        guard ArchiveLayout.isFolderDirectory(directory),
          !ArchiveLayout.isSymbolicLink(layout.foldersPath + "/" + directory)
        else {
          report.notes.append("\(layout.foldersPath)/\(directory): not a folder directory of an archive; left alone")
          continue
        }
        try rebuildFolder(
          directory: directory, layout: layout, catalog: catalog, state: &state, changes: &changes,
          report: &report, progress: progress)
      }
      try state.finish(catalog: catalog, report: &report)
      try catalog.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
    try changes.apply()
    for suffix in ["-wal", "-shm"] { unlink(layout.catalogPath + suffix) }
    guard rename(building, layout.catalogPath) == 0 else {
      throw FileError(path: layout.catalogPath, operation: "replace catalog", errno: errno)
    }
    for suffix in ["-wal", "-shm"] { unlink(building + suffix) }
    try FileSecurity.syncDirectory(atPath: layout.root)
    return report
  }

  private static func rebuildFolder(
    directory: String, layout: ArchiveLayout, catalog: ArchiveCatalog, state: inout RebuildState,
    changes: inout FileChanges, report: inout ReindexReport, progress: (String) -> Void
  ) throws {
    let folderPath = try layout.folderPath(directory: directory)
    let dataFiles = try FileManager.default.contentsOfDirectory(atPath: folderPath)
      .filter { ArchiveLayout.dataFileNumber($0) != nil }.sorted()
    guard !dataFiles.isEmpty else { return }
    let manifests = try dataFiles.map { dataName in
      try readManifest(
        try layout.dataPath(directory: directory, file: ArchiveLayout.manifestName(forDataFile: dataName)),
        report: &report)
    }

    // The folder: the first header line found; its special use from the last one (a change
    // of special use appends a header line). UIDs already given, from every line.
    var name = ArchiveLayout.folderName(forDirectory: directory) ?? directory
    var validity: UInt32?
    var specialUse: String?
    var maxUID: UInt32 = 0
    for manifest in manifests.compactMap({ $0 }) {
      for line in manifest.lines {
        switch line.entry {
        case .folder(let headerName, let headerValidity, let headerSpecialUse)?:
          if validity == nil { (name, validity) = (headerName, headerValidity) }
          specialUse = headerSpecialUse
        case .stored(let message, _)?, .copy(let message)?: maxUID = max(maxUID, message.uid)
        case .flags(let uid, _, _)?: maxUID = max(maxUID, uid)
        default: break
        }
      }
    }
    if validity != nil && manifests.contains(where: { $0 == nil }) {
      validity = nil
      report.notes.append("\(folderPath): a data file has no manifest, so the folder gets a new UIDVALIDITY")
    }
    if try catalog.folder(named: name) != nil {
      report.notes.append(
        "\(folderPath): another directory holds a folder named '\(name)'; indexed as '\(name) (\(directory))'")
      name += " (\(directory))"
    }
    let folder = try catalog.createFolder(
      name: name, directory: directory, validity: validity ?? UInt32.random(in: 1...UInt32.max), specialUse: specialUse)
    report.folders += 1
    var flagChanges: [(UInt32, [String])] = []

    for (dataName, manifest) in zip(dataFiles, manifests) {
      let dataPath = try layout.dataPath(directory: directory, file: dataName)
      let manifestPath = try layout.dataPath(
        directory: directory, file: ArchiveLayout.manifestName(forDataFile: dataName))
      progress(dataPath)
      let file = try catalog.addFile(folder: folder.id, name: dataName, manifestLength: 0)
      report.files += 1

      // Stored lines by the member that holds their bytes; each is checked as its member
      // goes by, so one member at a time is in memory.
      var storedByMember: [Int: [(index: Int, message: ManifestMessage, location: ManifestLocation)]] = [:]
      for (index, line) in (manifest?.lines ?? []).enumerated() {
        if case .stored(let message, let location)? = line.entry {
          storedByMember[location.memberOffset, default: []].append((index, message, location))
        }
      }
      var verified: Set<Int> = []
      var recovered: [ManifestEntry] = []
      let now = Int64(Date().timeIntervalSince1970)
      func check(offset: Int, plain: [UInt8]) {
        for (index, message, location) in storedByMember[offset] ?? [] {
          let record = RecordLocation(
            directory: "", file: "", memberOffset: offset, recordOffset: location.recordOffset,
            recordLength: location.recordLength)
          guard let bytes = try? Archive.message(in: plain, location: record, size: message.size, path: dataPath),
            ContentHasher.hash(bytes) == message.sha256
          else { continue }
          verified.insert(index)
          state.addBlob(
            CatalogBlob(
              sha256: message.sha256, size: message.size, fileID: file.id, memberOffset: offset,
              recordOffset: location.recordOffset, recordLength: location.recordLength),
            summary: HeaderSummary(bytes))
        }
      }
      let scan = try scanMembers(path: dataPath) { offset, plain in
        if manifest != nil {
          check(offset: offset, plain: plain)
          return
        }
        // No manifest: index the mbox records themselves, without flags.
        var splitter = MboxSplitter()
        var found: [MboxSplitter.Record] = []
        splitter.feed(plain) { found.append($0) }
        splitter.finish { found.append($0) }
        for (index, record) in found.enumerated() {
          let end = index + 1 < found.count ? found[index + 1].offset : plain.count
          maxUID += 1
          let message = ManifestMessage(
            uid: maxUID, sha256: ContentHasher.hash(record.message), size: record.message.count, flags: [],
            internalDate: nil, zoneMinutes: 0, firstSeen: now, origin: nil)
          let location = ManifestLocation(
            memberOffset: offset, recordOffset: record.offset, recordLength: end - record.offset)
          state.addBlob(
            CatalogBlob(
              sha256: message.sha256, size: message.size, fileID: file.id, memberOffset: offset,
              recordOffset: record.offset, recordLength: location.recordLength),
            summary: HeaderSummary(record.message))
          state.rows.append((folder.id, message))
          recovered.append(.stored(message, location: location))
        }
      }
      if let damage = scan.damage {
        report.notes.append("\(dataPath): \(damage.description)")
        // Members after the damaged one are read one by one from the manifest's offsets.
        for offset in storedByMember.keys.sorted() where offset > damage.memberOffset {
          if let plain = try? MemberReader.decompress(path: dataPath, memberOffset: offset, upTo: .max) {
            check(offset: offset, plain: plain)
          }
        }
      }
      if scan.validLength < scan.fileSize {
        changes.truncations.append((dataPath, scan.validLength))
        report.notes.append("\(dataPath): cut off \(scan.fileSize - scan.validLength) bytes of an unfinished write")
      }

      var kept: [String] = []
      if let manifest {
        for (index, line) in manifest.lines.enumerated() {
          switch line.entry {
          case .stored(let message, let location)?:
            if verified.contains(index) {
              state.rows.append((folder.id, message))
            } else if location.memberOffset >= scan.validLength {
              // Its bytes were in the torn tail: they are cut off, and so is the line.
              report.notes.append("\(dataPath): UID \(message.uid) was not finished; dropped")
              continue
            } else {
              report.notes.append(
                "\(dataPath): UID \(message.uid) is damaged; left out of the index (its manifest line is kept)")
            }
          case .copy(let message)?: state.rows.append((folder.id, message))
          case .flags(let uid, let flags, _)?: flagChanges.append((uid, flags))
          case .present?: state.presence.append(line.entry!)
          case .folder?, nil: break
          }
          kept.append(line.raw)
        }
      } else {
        kept.append(ManifestEntry.folder(name: folder.name, validity: folder.validity, specialUse: specialUse).line)
        kept += recovered.map(\.line)
        report.notes.append(
          "\(manifestPath): missing; \(recovered.count) message(s) indexed from the mbox records, without flags")
      }
      // The manifest holds exactly what is indexed or kept, so later appends never collide
      // with lines that pointed past a cut-off tail.
      let text = Array(kept.map { $0 + "\n" }.joined().utf8)
      if manifest?.bytes != text { changes.manifests.append((manifestPath, text)) }
      try catalog.database.run(
        "UPDATE files SET data_length = ?, manifest_length = ? WHERE id = ?", .int(scan.validLength),
        .int(text.count), .integer(file.id))
    }
    try catalog.database.run(
      "UPDATE folders SET next_uid = ? WHERE id = ?", .integer(Int64(maxUID) + 1), .integer(folder.id))
    state.flagChanges.append((folder.id, flagChanges))
  }

  /// A manifest line as read: its text, and what it says (nil for a kind this version does
  /// not know, or a line it cannot read; both are kept as they are).
  struct ManifestLine {
    var raw: String
    var entry: ManifestEntry?
  }

  /// The manifest's lines, without a torn last line; nil when there is no manifest. Any
  /// failure other than a missing file is an error: a manifest that exists is never
  /// replaced by one guessed from the data.
  private static func readManifest(
    _ path: String, report: inout ReindexReport
  ) throws -> (
    lines: [ManifestLine], bytes: [UInt8]
  )? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    if descriptor < 0 {
      if errno == ENOENT { return nil }
      throw FileError(path: path, operation: "open manifest", errno: errno)
    }
    close(descriptor)
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var lines: [ManifestLine] = []
    var lineStart = 0
    for index in bytes.indices where bytes[index] == 0x0A {
      let text = String(decoding: bytes[lineStart..<index], as: UTF8.self)
      lineStart = index + 1
      do {
        lines.append(ManifestLine(raw: text, entry: try ManifestEntry.parse(text)))
      } catch {
        report.notes.append("\(path): kept a line it cannot read: \(error)")
        lines.append(ManifestLine(raw: text, entry: nil))
      }
    }
    if lineStart < bytes.count {
      report.notes.append("\(path): dropped an unfinished last line")
    }
    return (lines, bytes)
  }
}

/// File changes a reindex makes, applied only once the new catalog is complete.
private struct FileChanges {
  var truncations: [(path: String, length: Int)] = []
  var manifests: [(path: String, bytes: [UInt8])] = []

  func apply() throws {
    for (path, bytes) in manifests {
      // Write aside, sync, then rename over: a kill leaves the old manifest or the new one.
      let temporary = path + ".reindex"
      try DurableFile.write(bytes, to: temporary)
      guard rename(temporary, path) == 0 else { throw FileError(path: path, operation: "replace", errno: errno) }
      try FileSecurity.syncDirectory(atPath: (path as NSString).deletingLastPathComponent)
    }
    for (path, length) in truncations {
      guard truncate(path, off_t(length)) == 0 else {
        throw FileError(path: path, operation: "truncate torn tail", errno: errno)
      }
    }
  }
}

/// Rows and blobs gathered across folders, written once every folder is read (a `copy`
/// line may refer to bytes stored in a folder read later).
private struct RebuildState {
  var blobs: [SHA256Digest: CatalogBlob] = [:]
  var summaries: [SHA256Digest: HeaderSummary] = [:]
  var rows: [(folder: Int64, message: ManifestMessage)] = []
  var flagChanges: [(folder: Int64, changes: [(UInt32, [String])])] = []
  var presence: [ManifestEntry] = []

  mutating func addBlob(_ blob: CatalogBlob, summary: HeaderSummary) {
    guard blobs[blob.sha256] == nil else { return }
    blobs[blob.sha256] = blob
    summaries[blob.sha256] = summary
  }

  func finish(catalog: ArchiveCatalog, report: inout ReindexReport) throws {
    try catalog.database.transaction {
      for blob in blobs.values {
        try catalog.database.run(
          """
          INSERT INTO blobs (sha256, size, file_id, member_offset, record_offset, record_length)
          VALUES (?, ?, ?, ?, ?, ?)
          """, .blob(blob.sha256.bytes), .int(blob.size), .integer(blob.fileID), .int(blob.memberOffset),
          .int(blob.recordOffset), .int(blob.recordLength))
      }
      for (folder, message) in rows {
        guard let summary = summaries[message.sha256] else {
          report.notes.append("a copy of UID \(message.uid) refers to bytes the archive no longer has; dropped")
          continue
        }
        try catalog.insert(
          replacing: true,
          CatalogRow(
            uid: message.uid, sha256: message.sha256, messageID: summary.messageID, subject: summary.subject,
            from: summary.from, flags: message.flags, internalDate: message.internalDate,
            zoneMinutes: message.zoneMinutes, origin: message.origin, firstSeen: message.firstSeen,
            lastSeen: message.firstSeen), folder: folder)
        report.messages += 1
      }
      report.blobs = blobs.count
    }
    try catalog.database.transaction {
      for (folder, changes) in flagChanges where !changes.isEmpty {
        try catalog.setFlags(folder: folder, changes.map { (uid: $0.0, flags: $0.1) })
      }
      for case .present(let account, let folder, let validity, let uids, let at) in presence {
        try catalog.markPresent(account: account, folder: folder, validity: validity, uids: uids, at: at)
      }
    }
  }
}

/// What one pass over a data file found: where its complete members end and any damage.
struct MemberScan {
  struct Damage: CustomStringConvertible {
    var memberOffset: Int
    var reason: String
    var description: String { "the gzip member at byte \(memberOffset) is damaged (\(reason))" }
  }
  var fileSize: Int
  var validLength = 0
  var damage: Damage?
}

/// Decompresses a data file from the start, handing over each complete member with its
/// compressed offset. Stops at a torn tail (`validLength` is where it starts) or at a
/// damaged member (named in `damage`; the file is then kept as it is, and the members after
/// it can still be read from their own offsets).
func scanMembers(path: String, onMember: (_ offset: Int, _ plain: [UInt8]) throws -> Void) throws -> MemberScan {
  var scan = MemberScan(fileSize: DurableFile.size(ofPath: path) ?? 0)
  let reader = try ReadOnlyFile(path: path).gzipReader(from: 0)
  var current: [UInt8] = []
  var memberStart = 0
  do {
    try reader.readAll(
      onData: { current.append(contentsOf: $0) },
      onMemberEnd: { end in
        try onMember(memberStart, current)
        current = []
        memberStart = end
        scan.validLength = end
      })
  } catch GzipError.truncated(let valid) {
    scan.validLength = valid
  } catch GzipError.corrupt(let offset, let reason) {
    scan.damage = MemberScan.Damage(memberOffset: offset, reason: reason)
    scan.validLength = scan.fileSize
  }
  return scan
}
