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
/// is indexed. A torn tail is cut off; manifest lines that point at nothing are dropped and
/// the manifest rewritten without them; a data file without a manifest is indexed from its
/// mbox records (without flags). The new catalog replaces the old one in one rename.
public enum ArchiveReindexer {
  public static func reindex(path: String, progress: (String) -> Void = { _ in }) throws -> ReindexReport {
    let layout = ArchiveLayout(root: path)
    guard DurableFile.size(ofPath: layout.markerPath) != nil else { throw ArchiveError.notAnArchive(path: path) }
    let building = layout.catalogPath + ".rebuild"
    for suffix in ["", "-wal", "-shm"] { unlink(building + suffix) }
    var report = ReindexReport()
    do {
      let catalog = try ArchiveCatalog(path: building)
      var state = RebuildState()
      let directories = try FileManager.default.contentsOfDirectory(atPath: layout.foldersPath).sorted()
      for directory in directories where !directory.hasPrefix(".") {
        try rebuildFolder(
          directory: directory, layout: layout, catalog: catalog, state: &state, report: &report, progress: progress)
      }
      try state.finish(catalog: catalog, report: &report)
      try catalog.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
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
    report: inout ReindexReport, progress: (String) -> Void
  ) throws {
    let folderPath = layout.folderPath(directory: directory)
    let dataFiles = try FileManager.default.contentsOfDirectory(atPath: folderPath)
      .filter { ArchiveLayout.dataFileNumber($0) != nil }.sorted()
    guard !dataFiles.isEmpty else { return }
    var folder: ArchiveFolder?
    var maxUID: UInt32 = 0
    var flagChanges: [(UInt32, [String])] = []
    for dataName in dataFiles {
      let dataPath = layout.dataPath(directory: directory, file: dataName)
      let manifestPath = layout.dataPath(directory: directory, file: ArchiveLayout.manifestName(forDataFile: dataName))
      let manifest = readManifest(manifestPath, report: &report)
      if folder == nil {
        var name = ArchiveLayout.folderName(forDirectory: directory) ?? directory
        var validity = UInt32.random(in: 1...UInt32.max)
        var specialUse: String?
        if case .folder(let headerName, let headerValidity, let headerSpecialUse)? = manifest?.entries.first {
          (name, validity, specialUse) = (headerName, headerValidity, headerSpecialUse)
        }
        folder = try catalog.createFolder(name: name, directory: directory, validity: validity, specialUse: specialUse)
        report.folders += 1
      }
      progress(dataPath)
      let file = try catalog.addFile(folder: folder!.id, name: dataName, manifestLength: 0)
      report.files += 1

      // Stored lines by the member that holds their bytes; each is checked as its member
      // goes by, so one member at a time is in memory.
      var storedByMember: [Int: [(index: Int, message: ManifestMessage, location: ManifestLocation)]] = [:]
      for (index, entry) in (manifest?.entries ?? []).enumerated() {
        if case .stored(let message, let location) = entry {
          storedByMember[location.memberOffset, default: []].append((index, message, location))
        }
      }
      var verified: Set<Int> = []
      var recovered: [ManifestEntry] = []
      let now = Int64(Date().timeIntervalSince1970)
      let folderID = folder!.id
      let scan = try scanMembers(path: dataPath) { offset, plain in
        if manifest != nil {
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
          var bytes = record.message
          // The format adds a line end to a message that lacks one; the size cannot tell.
          let message = ManifestMessage(
            uid: maxUID, sha256: ContentHasher.hash(bytes), size: bytes.count, flags: [],
            internalDate: nil, zoneMinutes: 0, firstSeen: now, origin: nil)
          let location = ManifestLocation(
            memberOffset: offset, recordOffset: record.offset, recordLength: end - record.offset)
          state.addBlob(
            CatalogBlob(
              sha256: message.sha256, size: message.size, fileID: file.id, memberOffset: offset,
              recordOffset: record.offset, recordLength: location.recordLength),
            summary: HeaderSummary(bytes))
          state.rows.append((folderID, message))
          recovered.append(.stored(message, location: location))
          bytes = []
        }
      }
      if scan.validLength < scan.fileSize {
        guard truncate(dataPath, off_t(scan.validLength)) == 0 else {
          throw FileError(path: dataPath, operation: "truncate torn tail", errno: errno)
        }
        report.notes.append("\(dataPath): cut off \(scan.fileSize - scan.validLength) bytes of an unfinished write")
      }
      if let damage = scan.damage { report.notes.append("\(dataPath): \(damage)") }

      var kept: [ManifestEntry] = []
      if let manifest {
        kept.append(manifest.entries.first ?? .folder(name: folder!.name, validity: folder!.validity, specialUse: nil))
        for (index, entry) in manifest.entries.enumerated().dropFirst() {
          switch entry {
          case .folder: continue
          case .stored(let message, _):
            guard verified.contains(index) else {
              report.notes.append("\(dataPath): UID \(message.uid) is not in the data file; dropped from the index")
              continue
            }
            state.rows.append((folderID, message))
            maxUID = max(maxUID, message.uid)
            kept.append(entry)
          case .copy(let message):
            state.rows.append((folderID, message))
            maxUID = max(maxUID, message.uid)
            kept.append(entry)
          case .flags(let uid, let flags, _):
            flagChanges.append((uid, flags))
            kept.append(entry)
          case .present:
            state.presence.append(entry)
            kept.append(entry)
          }
        }
      } else {
        kept.append(.folder(name: folder!.name, validity: folder!.validity, specialUse: folder!.specialUse))
        kept += recovered
        report.notes.append(
          "\(manifestPath): missing; \(recovered.count) message(s) indexed from the mbox records, without flags")
      }
      // The manifest holds exactly what is indexed, so later appends never collide with
      // lines that pointed past a cut-off tail.
      let text = Array(kept.map { $0.line + "\n" }.joined().utf8)
      if manifest?.bytes != text { try DurableFile.write(text, to: manifestPath) }
      try catalog.database.run(
        "UPDATE files SET data_length = ?, manifest_length = ? WHERE id = ?", .int(scan.validLength),
        .int(text.count), .integer(file.id))
    }
    if let folder {
      try catalog.database.run(
        "UPDATE folders SET next_uid = ? WHERE id = ?", .integer(Int64(maxUID) + 1), .integer(folder.id))
      state.flagChanges.append((folder.id, flagChanges))
    }
  }

  /// The manifest's lines, without a torn last line; nil when there is no manifest.
  private static func readManifest(
    _ path: String, report: inout ReindexReport
  ) -> (
    entries: [ManifestEntry], bytes: [UInt8]
  )? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    let bytes = [UInt8](data)
    var entries: [ManifestEntry] = []
    var lineStart = 0
    for index in bytes.indices where bytes[index] == 0x0A {
      let line = String(decoding: bytes[lineStart..<index], as: UTF8.self)
      lineStart = index + 1
      do {
        if let entry = try ManifestEntry.parse(line) { entries.append(entry) }
      } catch {
        report.notes.append("\(path): skipped \(error)")
      }
    }
    if lineStart < bytes.count {
      report.notes.append("\(path): dropped an unfinished last line")
    }
    return (entries, bytes)
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
  var fileSize: Int
  var validLength = 0
  var damage: String?
}

/// Decompresses a data file from the start, handing over each complete member with its
/// compressed offset. Stops at a torn tail (`validLength` is where it starts) or at a
/// damaged member (named in `damage`; the file is then kept as it is).
func scanMembers(path: String, onMember: (_ offset: Int, _ plain: [UInt8]) throws -> Void) throws -> MemberScan {
  var scan = MemberScan(fileSize: DurableFile.size(ofPath: path) ?? 0)
  let descriptor = open(path, O_RDONLY | O_CLOEXEC)
  guard descriptor >= 0 else { throw FileError(path: path, operation: "open", errno: errno) }
  defer { close(descriptor) }
  var position = 0
  let reader = try GzipReader { buffer in
    let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(position))
    if count < 0 { throw FileError(path: path, operation: "read", errno: errno) }
    position += count
    return count
  }
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
    scan.damage = "the gzip member at byte \(offset) is damaged (\(reason)); messages from there on are not indexed"
    scan.validLength = scan.fileSize
  }
  return scan
}
