import Foundation
import MailCore
import Storage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An archive directory (docs/archive-format.md): gzip mboxrd data files per folder, each
/// with a manifest, and a catalog indexing them. One instance is one catalog connection,
/// used by one thread at a time; several instances (one per engine worker) may write to
/// different folders of the same archive at once. Other processes are kept out by the
/// caller's `ExclusiveLock` on `layout.lockPath`.
public final class Archive: @unchecked Sendable {
  public let layout: ArchiveLayout
  let catalog: ArchiveCatalog
  /// Data files grow to about this size before a new one is started.
  public var segmentLimit = 1 << 30
  /// zlib level of new members (1 fast … 9 small; 6 is gzip's default).
  public var compressionLevel: Int32 = 6

  /// Opens the archive at `path`. With `create`, a missing or empty directory becomes a new
  /// archive (0700, catalog 0600); otherwise it must already be one.
  /// Whether `path` holds an archive (its marker file).
  public static func exists(at path: String) -> Bool {
    DurableFile.size(ofPath: ArchiveLayout(root: path).markerPath) != nil
  }

  /// Whether an archive is there; a marker that cannot be looked at (permission denied)
  /// is an error saying so, not "no archive yet".
  static func checkedExists(at path: String) throws -> Bool {
    let marker = ArchiveLayout(root: path).markerPath
    var info = stat()
    if stat(marker, &info) == 0 { return access(marker, R_OK) == 0 ? true : try refuse(marker, errno: EACCES) }
    let failure = errno
    if failure == ENOENT || failure == ENOTDIR { return false }
    return try refuse(marker, errno: failure)
  }

  private static func refuse(_ path: String, errno: Int32) throws -> Bool {
    throw FileError(path: path, operation: "read the archive marker", errno: errno)
  }

  /// Takes the archive's locks for a run: `writing` (backup, import) excludes other writers
  /// and reindex; reading (restore, export, list, verify) excludes only reindex; `rebuilding`
  /// excludes everyone. Creates the directory (0700) when a writer starts a new archive.
  public static func lock(path: String, purpose: String, mode: LockMode) throws -> [ExclusiveLock] {
    let layout = ArchiveLayout(root: path)
    switch mode {
    case .reading:
      guard try checkedExists(at: path) else { throw ArchiveError.noArchiveYet(path: path) }
      return [try ExclusiveLock.acquire(path: layout.readLockPath, purpose: purpose, shared: true)]
    case .writing:
      try FileSecurity.createPrivateDirectory(atPath: layout.root)
      return [try ExclusiveLock.acquire(path: layout.lockPath, purpose: purpose)]
    case .rebuilding:
      guard try checkedExists(at: path) else { throw ArchiveError.notAnArchive(path: path) }
      let writers = try ExclusiveLock.acquire(path: layout.lockPath, purpose: purpose)
      return [writers, try ExclusiveLock.acquire(path: layout.readLockPath, purpose: purpose)]
    }
  }

  public enum LockMode: Sendable { case reading, writing, rebuilding }

  public init(path: String, create: Bool) throws {
    layout = ArchiveLayout(root: path)
    try Self.prepare(layout, create: create)
    if DurableFile.size(ofPath: layout.catalogPath) == nil,
      !((try? FileManager.default.contentsOfDirectory(atPath: layout.foldersPath)) ?? []).isEmpty
    {
      throw ArchiveError.catalogMissing(path: layout.root)
    }
    catalog = try ArchiveCatalog(path: layout.catalogPath)
  }

  private static let markerAside = ".mailferry-archive.new"

  private static func prepare(_ layout: ArchiveLayout, create: Bool) throws {
    let files = FileManager.default
    if let marker = try? String(contentsOfFile: layout.markerPath, encoding: .utf8) {
      let version = marker.split(separator: "\n").compactMap { line -> Int? in
        line.hasPrefix("format ") ? Int(line.dropFirst("format ".count)) : nil
      }.first
      guard let version else { throw ArchiveError.notAnArchive(path: layout.root) }
      guard version <= ArchiveLayout.formatVersion else {
        throw ArchiveError.unsupportedFormat(path: layout.root, version: version)
      }
      return
    }
    var isDirectory: ObjCBool = false
    let exists = files.fileExists(atPath: layout.root, isDirectory: &isDirectory)
    let entries =
      exists && isDirectory.boolValue
      ? try files.contentsOfDirectory(atPath: layout.root).filter {
        !ArchiveLayout.lockFiles.contains($0) && $0 != markerAside
      } : []
    if exists && (!isDirectory.boolValue || !entries.isEmpty) { throw ArchiveError.notAnArchive(path: layout.root) }
    guard create else { throw ArchiveError.noArchiveYet(path: layout.root) }
    try FileSecurity.createPrivateDirectory(atPath: layout.root)
    chmod(layout.root, 0o700)
    // The marker first, whole or not at all (written aside, then renamed): a run killed
    // here leaves an archive or an empty directory, never something in between.
    let aside = layout.root + "/" + Self.markerAside
    try DurableFile.write(Array("MailFerry archive\nformat \(ArchiveLayout.formatVersion)\n".utf8), to: aside)
    guard rename(aside, layout.markerPath) == 0 else {
      throw FileError(path: layout.markerPath, operation: "create", errno: errno)
    }
    try FileSecurity.syncDirectory(atPath: layout.root)
    try FileSecurity.createPrivateDirectory(atPath: layout.foldersPath)
  }

  // MARK: Folders

  public func folders() throws -> [ArchiveFolder] { try catalog.folders() }

  public func folder(named name: String) throws -> ArchiveFolder? { try catalog.folder(named: name) }

  public func messageCount(_ folder: ArchiveFolder) throws -> Int { try catalog.count(folder: folder.id) }

  /// UIDs of the folder above `after`, ascending.
  public func uids(_ folder: ArchiveFolder, after: UInt32) throws -> [UInt32] {
    try catalog.uids(folder: folder.id, after: after)
  }

  public func messages(_ folder: ArchiveFolder, uids: [UInt32]) throws -> [ArchivedMessage] {
    try catalog.messages(folder: folder.id, uids: uids)
  }

  /// Every catalogued message of the folder, in UID order.
  public func allMessages(_ folder: ArchiveFolder) throws -> [ArchivedMessage] {
    try catalog.messages(where: "m.folder_id = ?", [.integer(folder.id)])
  }
}

/// Small durable-write helpers for the archive's own files.
enum DurableFile {
  /// Writes a new file (0600) and syncs it and its directory.
  static func write(_ bytes: [UInt8], to path: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw FileError(path: path, operation: "create", errno: errno) }
    defer { close(descriptor) }
    try writeAll(bytes, to: descriptor, at: 0, path: path)
    if fsync(descriptor) != 0 { throw FileError(path: path, operation: "sync", errno: errno) }
    try FileSecurity.syncDirectory(atPath: (path as NSString).deletingLastPathComponent)
  }

  static func writeAll(_ bytes: [UInt8], to descriptor: Int32, at offset: Int, path: String) throws {
    var written = 0
    while written < bytes.count {
      let count = bytes.withUnsafeBytes {
        pwrite(descriptor, $0.baseAddress! + written, $0.count - written, off_t(offset + written))
      }
      if count < 0 {
        if errno == EINTR { continue }
        throw FileError(path: path, operation: "write", errno: errno)
      }
      written += count
    }
  }

  /// The size of an open file.
  static func size(of descriptor: Int32, path: String) throws -> Int {
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw FileError(path: path, operation: "stat", errno: errno) }
    return Int(info.st_size)
  }

  static func size(ofPath path: String) -> Int? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Int(info.st_size)
  }
}
