import Foundation
import MailCore
import Storage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension Archive {
  /// Opens `name` for writing, creating it (directory 0700, first data file and manifest)
  /// when missing, and cuts off what a killed run left past the last committed batch (a torn
  /// gzip member or manifest lines the catalog never committed). Returns the folder and the
  /// bytes cut off.
  public func prepareFolder(
    named name: String, specialUse: String?
  ) throws -> (
    folder: ArchiveFolder, repairedBytes: Int
  ) {
    try withFolderLock(name) {
      if var folder = try catalog.folder(named: name) {
        var repaired = 0
        guard var file = try catalog.files(folder: folder.id).last else { return (folder, 0) }
        repaired = try repairTail(folder: folder, file: file)
        if let specialUse, specialUse != folder.specialUse {
          // A new header line in the manifest carries the change, so a reindex keeps it.
          folder.specialUse = specialUse
          try record(
            [.folder(name: folder.name, validity: folder.validity, specialUse: specialUse)], folder: folder, file: &file
          ) { try catalog.setSpecialUse(folder: folder.id, specialUse) }
        }
        return (folder, repaired)
      }
      let directory = try uniqueDirectory(for: name)
      try FileSecurity.createPrivateDirectory(atPath: layout.folderPath(directory: directory))
      try FileSecurity.syncDirectory(atPath: layout.foldersPath)
      let validity = UInt32.random(in: 1...UInt32.max)
      let dataName = ArchiveLayout.dataFileName(number: 1)
      let header = try startDataFile(
        directory: directory, dataName: dataName,
        header: .folder(name: name, validity: validity, specialUse: specialUse))
      return try catalog.database.transaction {
        let folder = try catalog.createFolder(
          name: name, directory: directory, validity: validity, specialUse: specialUse)
        _ = try catalog.addFile(folder: folder.id, name: dataName, manifestLength: header)
        return (folder, 0)
      }
    }
  }

  /// The folder's directory name, with a `~N` suffix when another folder's directory differs
  /// only in case (one directory on case-insensitive file systems: exFAT, NTFS, APFS).
  private func uniqueDirectory(for name: String) throws -> String {
    let base = ArchiveLayout.directoryName(forFolder: name)
    let taken = Set(try catalog.folders().map { $0.directory.lowercased() })
    var candidate = base
    var number = 1
    while taken.contains(candidate.lowercased()) {
      number += 1
      candidate = base + "~\(number)"
    }
    return candidate
  }

  /// Writes an empty data file and a manifest holding only its header line; returns the
  /// manifest's length.
  private func startDataFile(directory: String, dataName: String, header: ManifestEntry) throws -> Int {
    let line = Array((header.line + "\n").utf8)
    try DurableFile.write([], to: layout.dataPath(directory: directory, file: dataName))
    try DurableFile.write(
      line, to: layout.dataPath(directory: directory, file: ArchiveLayout.manifestName(forDataFile: dataName)))
    return line.count
  }

  /// Truncates the data file and manifest to their committed lengths.
  private func repairTail(folder: ArchiveFolder, file: CatalogFile) throws -> Int {
    var repaired = 0
    for (path, committed) in [
      (try layout.dataPath(directory: folder.directory, file: file.name), file.dataLength),
      (
        try layout.dataPath(directory: folder.directory, file: ArchiveLayout.manifestName(forDataFile: file.name)),
        file.manifestLength
      ),
    ] {
      guard let size = DurableFile.size(ofPath: path) else {
        if committed == 0 {
          try DurableFile.write([], to: path)
          continue
        }
        throw ArchiveError.dataMissing(path: path, expected: committed, found: 0)
      }
      if size < committed { throw ArchiveError.dataMissing(path: path, expected: committed, found: size) }
      if size > committed {
        guard truncate(path, off_t(committed)) == 0 else {
          throw FileError(path: path, operation: "truncate torn tail", errno: errno)
        }
        repaired += size - committed
      }
    }
    return repaired
  }

  /// Adds a batch to `folder`: bytes not yet in the archive become one new gzip member of
  /// the folder's current data file; every message gets a catalog row (and a manifest line),
  /// copy for copy. Data and manifest are synced before the catalog commits, so a crash
  /// leaves at most an uncommitted tail, cut off by the next `prepareFolder`. Returns the
  /// UIDs given, in order.
  public func append(_ messages: [MessageToArchive], to folder: ArchiveFolder) throws -> [UInt32] {
    try withFolderLock(folder.name) {
      guard let current = try catalog.folder(named: folder.name) else {
        throw ArchiveError.noSuchFolder(name: folder.name)
      }
      guard var file = try catalog.files(folder: current.id).last else {
        throw ArchiveError.noSuchFolder(name: folder.name)
      }
      let now = Int64(Date().timeIntervalSince1970)
      var nextUID = current.nextUID
      var member: [UInt8] = []
      var newBlobs: [(sha256: SHA256Digest, size: Int, offset: Int, length: Int)] = []
      var batchHashes: Set<SHA256Digest> = []
      var rows: [CatalogRow] = []
      var lines: [ManifestEntry] = []
      var pendingStored: [(index: Int, message: ManifestMessage, blob: Int)] = []
      var spooled: [SpooledRecord] = []
      for message in messages {
        let hash = message.knownHash ?? message.body.contentHash
        let header = message.body.headerBytes
        let summary = HeaderSummary(header)
        let manifest = ManifestMessage(
          uid: nextUID, sha256: hash, size: message.body.count, flags: message.flags,
          internalDate: message.internalDate, zoneMinutes: message.zoneMinutes, firstSeen: now, origin: message.origin)
        rows.append(
          CatalogRow(
            uid: nextUID, sha256: hash, messageID: summary.messageID, subject: summary.subject, from: summary.from,
            flags: message.flags, internalDate: message.internalDate, zoneMinutes: message.zoneMinutes,
            origin: message.origin, firstSeen: now, lastSeen: now))
        nextUID += 1
        if try batchHashes.contains(hash) || catalog.blob(hash) != nil {
          lines.append(.copy(manifest))
          continue
        }
        batchHashes.insert(hash)
        let sender = Mboxrd.sender(of: header)
        switch message.body {
        case .inMemory(let bytes):
          let record = Mboxrd.record(bytes, sender: sender, date: message.internalDate ?? now)
          newBlobs.append((hash, bytes.count, member.count, record.count))
          pendingStored.append((lines.count, manifest, newBlobs.count - 1))
          member += record
        case .spooled(let spool):
          spooled.append(
            SpooledRecord(
              index: lines.count, message: manifest, spool: spool, sender: sender, date: message.internalDate ?? now))
        }
        lines.append(.copy(manifest))  // replaced below once the member's place is known
      }

      var blobs: [CatalogBlob] = []
      let spooledBytes = spooled.reduce(0) { $0 + $1.spool.count }
      if !member.isEmpty || !spooled.isEmpty {
        if file.dataLength > 0 && file.dataLength + (member.count + spooledBytes) / 3 > segmentLimit {
          file = try startNextFile(after: file, folder: current)
        }
        let dataPath = try layout.dataPath(directory: current.directory, file: file.name)
        let batchStart = file.dataLength
        if !member.isEmpty {
          let compressed = try ParallelGzip.compress(member, level: compressionLevel)
          try appendDurably(
            compressed, to: dataPath, committedLength: file.dataLength, crashPoints: (.insideMember, .afterDataWrite))
          for (index, message, blob) in pendingStored {
            let location = ManifestLocation(
              memberOffset: file.dataLength, recordOffset: newBlobs[blob].offset, recordLength: newBlobs[blob].length)
            lines[index] = .stored(message, location: location)
          }
          blobs = newBlobs.map {
            CatalogBlob(
              sha256: $0.sha256, size: $0.size, fileID: file.id, memberOffset: file.dataLength,
              recordOffset: $0.offset, recordLength: $0.length)
          }
          file.dataLength += compressed.count
        }
        // Each spooled message is a member of its own, written from its file in chunks.
        for item in spooled {
          let written = try appendSpooledMember(item, to: dataPath, at: file.dataLength, batchStart: batchStart)
          lines[item.index] = .stored(
            item.message,
            location: ManifestLocation(memberOffset: file.dataLength, recordOffset: 0, recordLength: written.record))
          blobs.append(
            CatalogBlob(
              sha256: item.message.sha256, size: item.spool.count, fileID: file.id, memberOffset: file.dataLength,
              recordOffset: 0, recordLength: written.record))
          file.dataLength += written.member
        }
      }
      file.manifestLength += try appendManifest(lines, folder: current, file: file)
      CrashPoint.afterManifest.reached()
      do {
        try catalog.commit(folder: current.id, nextUID: nextUID, file: file, blobs: blobs, rows: rows)
      } catch {
        // Not committed (a full disk, a busy catalog): cut both files back at once, so the
        // next batch starts from what the catalog has.
        if let committed = try? catalog.files(folder: current.id).last, committed.id == file.id {
          _ = try? repairTail(folder: current, file: committed)
        }
        throw error
      }
      return rows.map(\.uid)
    }
  }

  /// A spooled message waiting for its own member, and the manifest line it fills.
  struct SpooledRecord {
    var index: Int
    var message: ManifestMessage
    var spool: SpooledMessage
    var sender: String
    var date: Int64
  }

  /// Writes a spooled message's mboxrd record as one gzip member at `offset` of the data
  /// file (cutting off what an interrupted write left there), reading the spool file and
  /// compressing in chunks, and syncs. On failure the file is cut back to `batchStart`, the
  /// batch's committed length. Returns the record's length and the member's.
  private func appendSpooledMember(
    _ item: SpooledRecord, to path: String, at offset: Int, batchStart: Int
  ) throws -> (record: Int, member: Int) {
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw FileError(path: path, operation: "open", errno: errno) }
    defer { close(descriptor) }
    var memberLength = 0
    var recordLength = 0
    do {
      let size = try DurableFile.size(of: descriptor, path: path)
      if size < offset { throw ArchiveError.dataMissing(path: path, expected: offset, found: size) }
      if size > offset && ftruncate(descriptor, off_t(offset)) != 0 {
        throw FileError(path: path, operation: "truncate torn tail", errno: errno)
      }
      let writer = GzipWriter(level: compressionLevel) { compressed in
        try DurableFile.writeAll(Array(compressed), to: descriptor, at: offset + memberLength, path: path)
        memberLength += compressed.count
      }
      var quoter = MboxrdQuoter()
      var pending = Mboxrd.separatorLine(sender: item.sender, date: item.date)
      var lastByte: UInt8?
      try item.spool.forEachChunk(size: MessageBody.chunkSize) { chunk in
        quoter.quote(chunk, into: &pending)
        lastByte = chunk.last
        recordLength += pending.count
        try writer.write(pending)
        pending.removeAll(keepingCapacity: true)
      }
      quoter.finish(into: &pending)
      if lastByte != 0x0A { pending.append(0x0A) }
      pending.append(0x0A)
      recordLength += pending.count
      try writer.write(pending)
      try writer.finishMember()
      if fsync(descriptor) != 0 { throw FileError(path: path, operation: "sync", errno: errno) }
    } catch {
      // A full disk mid-member: nothing of this batch stays in the data file.
      _ = ftruncate(descriptor, off_t(batchStart))
      throw error
    }
    return (recordLength, memberLength)
  }

  /// Records new flags for messages of `folder` (manifest first, then catalog).
  public func setFlags(_ changes: [(uid: UInt32, flags: [String])], in folder: ArchiveFolder) throws {
    guard !changes.isEmpty else { return }
    let now = Int64(Date().timeIntervalSince1970)
    try recordInCurrentFile(changes.map { .flags(uid: $0.uid, flags: $0.flags, at: now) }, folder: folder) {
      try catalog.setFlags(folder: folder.id, changes)
    }
  }

  /// Records that the source still held these messages now ("last seen").
  public func markPresent(
    account: String, sourceFolder: String, validity: UInt32, uids: [UInt32], recordedIn folder: ArchiveFolder
  ) throws {
    let ranges = ManifestEntry.ranges(uids)
    guard !ranges.isEmpty else { return }
    let now = Int64(Date().timeIntervalSince1970)
    try recordInCurrentFile(
      [.present(account: account, folder: sourceFolder, validity: validity, uids: ranges, at: now)], folder: folder
    ) { try catalog.markPresent(account: account, folder: sourceFolder, validity: validity, uids: ranges, at: now) }
  }

  private func startNextFile(after file: CatalogFile, folder: ArchiveFolder) throws -> CatalogFile {
    let number = (ArchiveLayout.dataFileNumber(file.name) ?? 0) + 1
    let name = ArchiveLayout.dataFileName(number: number)
    let header = try startDataFile(
      directory: folder.directory, dataName: name,
      header: .folder(name: folder.name, validity: folder.validity, specialUse: folder.specialUse))
    return try catalog.addFile(folder: folder.id, name: name, manifestLength: header)
  }

  /// `record` in the folder's current data file's manifest, under the folder's lock.
  private func recordInCurrentFile(
    _ lines: [ManifestEntry], folder: ArchiveFolder, catalogChange: () throws -> Void
  ) throws {
    try withFolderLock(folder.name) {
      guard var file = try catalog.files(folder: folder.id).last else {
        throw ArchiveError.noSuchFolder(name: folder.name)
      }
      try record(lines, folder: folder, file: &file, catalogChange: catalogChange)
    }
  }

  /// A change that is not a batch of messages: its manifest lines first (synced), then the
  /// catalog change and the manifest's new committed length in one transaction.
  private func record(
    _ lines: [ManifestEntry], folder: ArchiveFolder, file: inout CatalogFile, catalogChange: () throws -> Void
  ) throws {
    file.manifestLength += try appendManifest(lines, folder: folder, file: file)
    let committed = file
    try catalog.database.transaction {
      try catalogChange()
      try catalog.database.run(
        "UPDATE files SET manifest_length = ? WHERE id = ?", .int(committed.manifestLength), .integer(committed.id))
    }
  }

  /// Runs `body` holding this process's lock on one folder of this archive.
  private func withFolderLock<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
    try FolderLocks.lock(layout.root + "\u{0}" + name, body)
  }

  /// Appends manifest lines at the committed length and syncs; returns the bytes written.
  private func appendManifest(_ lines: [ManifestEntry], folder: ArchiveFolder, file: CatalogFile) throws -> Int {
    let bytes = Array(lines.map { $0.line + "\n" }.joined().utf8)
    let path = try layout.dataPath(
      directory: folder.directory, file: ArchiveLayout.manifestName(forDataFile: file.name))
    try appendDurably(bytes, to: path, committedLength: file.manifestLength)
    return bytes.count
  }

  /// Writes `bytes` at `committedLength` (cutting off anything an interrupted write left
  /// there) and syncs the file. `crashPoints` (tests only) are reached halfway through the
  /// write and before the sync.
  private func appendDurably(
    _ bytes: [UInt8], to path: String, committedLength: Int,
    crashPoints: (halfway: CrashPoint, beforeSync: CrashPoint)? = nil
  ) throws {
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw FileError(path: path, operation: "open", errno: errno) }
    defer { close(descriptor) }
    let size = try DurableFile.size(of: descriptor, path: path)
    if size < committedLength { throw ArchiveError.dataMissing(path: path, expected: committedLength, found: size) }
    if size > committedLength && ftruncate(descriptor, off_t(committedLength)) != 0 {
      throw FileError(path: path, operation: "truncate torn tail", errno: errno)
    }
    do {
      if let crashPoints, crashPoints.halfway.isArmed {
        let half = bytes.count / 2
        try DurableFile.writeAll(Array(bytes[..<half]), to: descriptor, at: committedLength, path: path)
        crashPoints.halfway.reached()
        try DurableFile.writeAll(Array(bytes[half...]), to: descriptor, at: committedLength + half, path: path)
      } else {
        try DurableFile.writeAll(bytes, to: descriptor, at: committedLength, path: path)
      }
      crashPoints?.beforeSync.reached()
      if fsync(descriptor) != 0 { throw FileError(path: path, operation: "sync", errno: errno) }
    } catch {
      // A full disk mid-write: leave the file as committed, so nothing half-written stays.
      _ = ftruncate(descriptor, off_t(committedLength))
      throw error
    }
  }
}

/// Serialises writers of one archive folder inside this process (engine workers each have
/// their own `Archive`); other processes are kept out by the archive's lock file.
enum FolderLocks {
  private static let registry = NSLock()
  nonisolated(unsafe) private static var locks: [String: NSLock] = [:]

  static func lock<T>(_ key: String, _ body: () throws -> T) rethrows -> T {
    let lock = registry.withLock {
      if let existing = locks[key] { return existing }
      let created = NSLock()
      locks[key] = created
      return created
    }
    return try lock.withLock(body)
  }
}
