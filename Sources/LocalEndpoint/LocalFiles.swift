import MailCore
import Mailstore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The POSIX file operations the local stores share. Mail is private: files are created
/// 0600 and directories 0700. Every failure becomes a `LocalStoreError` naming the path.
enum LocalFiles {
  struct Status {
    var isDirectory: Bool
    var isRegular: Bool
    var size: UInt64
    /// Modification time, seconds since 1970.
    var modified: Int64
  }

  /// What `stat` says about `path`, or nil when it does not exist.
  static func status(_ path: String) throws -> Status? {
    var info = stat()
    guard stat(path, &info) == 0 else {
      let code = errno
      if code == ENOENT || code == ENOTDIR { return nil }
      throw LocalStoreError.system(code, path: path, operation: "stat")
    }
    let type = info.st_mode & S_IFMT
    #if canImport(Darwin)
      let modified = Int64(info.st_mtimespec.tv_sec)
    #else
      let modified = Int64(info.st_mtim.tv_sec)
    #endif
    return Status(
      isDirectory: type == S_IFDIR, isRegular: type == S_IFREG, size: UInt64(max(0, info.st_size)),
      modified: modified)
  }

  static func isDirectory(_ path: String) -> Bool { (try? status(path))??.isDirectory ?? false }

  static func exists(_ path: String) -> Bool { ((try? status(path)) ?? nil) != nil }

  /// Creates `path` and its missing parents (0700), making each new entry durable.
  static func makeDirectory(_ path: String) throws {
    if let existing = try status(path) {
      guard existing.isDirectory else { throw LocalStoreError.notADirectory(path: path) }
      return
    }
    let parent = parentDirectory(of: path)
    if parent != path { try makeDirectory(parent) }
    if mkdir(path, 0o700) != 0 {
      let code = errno
      if code == EEXIST && isDirectory(path) { return }
      throw LocalStoreError.system(code, path: path, operation: "create directory")
    }
    try syncDirectory(parent)
  }

  /// The names in a directory, without `.` and `..`. Names that are not valid UTF-8 are
  /// left out (they could not be named again) and listed in `unreadable`.
  static func list(_ path: String, unreadable: inout [String]) throws -> [String] {
    guard let directory = opendir(path) else {
      throw LocalStoreError.system(errno, path: path, operation: "list directory")
    }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name: String? = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
        tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
          String(validatingCString: $0)
        }
      }
      guard let name else {
        unreadable.append(path)
        continue
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  static func list(_ path: String) throws -> [String] {
    var ignored: [String] = []
    return try list(path, unreadable: &ignored)
  }

  static func readAll(_ path: String) throws -> [UInt8] {
    let file = try LocalFile(path: path, flags: O_RDONLY)
    return try file.read(from: 0, count: Int(try file.size()))
  }

  /// Writes a new file (failing if it exists), with its modification time set when given,
  /// and syncs it. The caller syncs the directory.
  static func createFile(_ path: String, contents: [UInt8], modified: Int64? = nil) throws {
    let file = try LocalFile(path: path, flags: O_WRONLY | O_CREAT | O_EXCL)
    do {
      try file.write(contents)
      if let modified { try file.setModified(modified) }
      try file.sync()
    } catch {
      _ = unlink(path)
      throw error
    }
  }

  /// `createFile`, writing a body in chunks (a spooled one is never read whole).
  static func createFile(_ path: String, body: MessageBody, modified: Int64? = nil) throws {
    let file = try LocalFile(path: path, flags: O_WRONLY | O_CREAT | O_EXCL)
    do {
      try body.forEachChunk { try file.write($0) }
      if let modified { try file.setModified(modified) }
      try file.sync()
    } catch {
      _ = unlink(path)
      throw error
    }
  }

  /// `createFile` with `count` bytes of `source` from `offset`, copied a MiB at a time (a
  /// torn record may be a large message).
  static func createFile(_ path: String, copying source: LocalFile, from offset: UInt64, count: UInt64) throws {
    let file = try LocalFile(path: path, flags: O_WRONLY | O_CREAT | O_EXCL)
    do {
      var copied: UInt64 = 0
      while copied < count {
        let chunk = try source.read(from: offset + copied, count: Int(min(count - copied, 1 << 20)))
        if chunk.isEmpty { break }
        try file.write(chunk)
        copied += UInt64(chunk.count)
      }
      try file.sync()
    } catch {
      _ = unlink(path)
      throw error
    }
  }

  /// The file at `path` as a message body, spooled past `policy`'s threshold; nil when the
  /// file is gone.
  static func readBody(_ path: String, spooling policy: SpoolPolicy) throws -> MessageBody? {
    let file: LocalFile
    do {
      file = try LocalFile(path: path, flags: O_RDONLY)
    } catch LocalStoreError.notFound {
      return nil
    }
    let builder = try MessageBodyBuilder(
      threshold: policy.threshold, directory: policy.directory, expected: Int(clamping: try file.size()))
    try file.read(from: 0, into: builder)
    return builder.finish()
  }

  /// Replaces a small file atomically: a new file beside it, synced, renamed over it, and
  /// the directory synced.
  static func replaceFile(_ path: String, contents: [UInt8]) throws {
    let temporary = path + ".new"
    _ = unlink(temporary)
    try createFile(temporary, contents: contents)
    try rename(temporary, to: path)
    try syncDirectory(parentDirectory(of: path))
  }

  static func rename(_ from: String, to: String) throws {
    guard Glibc.rename(from, to) == 0 else {
      let code = errno
      throw LocalStoreError.system(code, path: code == ENOENT ? from : to, operation: "rename")
    }
  }

  /// Removes a file; false when it was not there.
  @discardableResult
  static func remove(_ path: String) throws -> Bool {
    guard unlink(path) == 0 else {
      let code = errno
      if code == ENOENT { return false }
      throw LocalStoreError.system(code, path: path, operation: "delete")
    }
    return true
  }

  /// Makes the entries of a directory (new, renamed or removed files) durable.
  static func syncDirectory(_ path: String) throws {
    let file = try LocalFile(path: path, flags: O_RDONLY | O_DIRECTORY)
    try file.sync()
  }

  static func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
  }

  static func join(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
  }

  /// Seconds since 1970, now.
  static func now() -> Int64 { Int64(time(nil)) }
}

/// An open file descriptor, closed when the object goes away. Owned by one thread.
final class LocalFile {
  let path: String
  private(set) var descriptor: Int32

  init(path: String, flags: Int32, mode: mode_t = 0o600) throws {
    self.path = path
    descriptor = open(path, flags | O_CLOEXEC, mode)
    guard descriptor >= 0 else {
      let operation = flags & (O_WRONLY | O_RDWR) != 0 ? "open for writing" : "open"
      throw LocalStoreError.system(errno, path: path, operation: operation)
    }
  }

  deinit { close() }

  func close() {
    if descriptor >= 0 { _ = Glibc.close(descriptor) }
    descriptor = -1
  }

  func size() throws -> UInt64 {
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw LocalStoreError.system(errno, path: path, operation: "stat") }
    return UInt64(max(0, info.st_size))
  }

  /// The file's inode number: it changes when another program replaces the file (a
  /// compacted mbox) rather than writing it in place.
  func inode() throws -> UInt64 {
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw LocalStoreError.system(errno, path: path, operation: "stat") }
    return UInt64(info.st_ino)
  }

  /// Reads up to `count` bytes at `offset` (fewer at the end of the file).
  func read(from offset: UInt64, count: Int) throws -> [UInt8] {
    guard count > 0 else { return [] }
    var bytes = [UInt8](repeating: 0, count: count)
    var filled = 0
    while filled < count {
      let got = bytes.withUnsafeMutableBytes { buffer in
        pread(descriptor, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
      }
      if got < 0 {
        if errno == EINTR { continue }
        throw LocalStoreError.system(errno, path: path, operation: "read")
      }
      if got == 0 { break }
      filled += got
    }
    bytes.removeLast(count - filled)
    return bytes
  }

  /// Reads the file from `offset` to its end in chunks, handing each to `chunk`.
  func stream(from offset: UInt64 = 0, chunkSize: Int = 1 << 20, _ chunk: ([UInt8]) throws -> Void) throws {
    var position = offset
    while true {
      let bytes = try read(from: position, count: chunkSize)
      if bytes.isEmpty { return }
      try chunk(bytes)
      position += UInt64(bytes.count)
    }
  }

  /// Writes all of `bytes` at the current position.
  func write<Bytes: Collection>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
    let contiguous = bytes as? [UInt8] ?? Array(bytes)
    try contiguous.withUnsafeBytes { try write($0) }
  }

  func write(_ buffer: UnsafeRawBufferPointer) throws {
    guard let base = buffer.baseAddress else { return }
    var written = 0
    while written < buffer.count {
      let result = Glibc.write(descriptor, base + written, buffer.count - written)
      if result < 0 {
        if errno == EINTR { continue }
        throw LocalStoreError.system(errno, path: path, operation: "write")
      }
      written += result
    }
  }

  /// The bytes from `offset` to the end of the file (or `limit` bytes of them), a chunk at
  /// a time into `builder`; the number of bytes read.
  @discardableResult
  func read(from offset: UInt64, atMost limit: UInt64 = .max, into builder: MessageBodyBuilder) throws -> UInt64 {
    var read: UInt64 = 0
    while read < limit {
      let chunk = try self.read(from: offset + read, count: Int(min(limit - read, 1 << 20)))
      if chunk.isEmpty { break }
      try builder.append(chunk)
      read += UInt64(chunk.count)
    }
    return read
  }

  func seekToEnd() throws -> UInt64 {
    let position = lseek(descriptor, 0, SEEK_END)
    guard position >= 0 else { throw LocalStoreError.system(errno, path: path, operation: "seek") }
    return UInt64(position)
  }

  func sync() throws {
    guard fsync(descriptor) == 0 else { throw LocalStoreError.system(errno, path: path, operation: "sync") }
  }

  func truncate(to length: UInt64) throws {
    guard ftruncate(descriptor, off_t(length)) == 0 else {
      throw LocalStoreError.system(errno, path: path, operation: "truncate")
    }
  }

  /// Sets the access and modification times (an INTERNALDATE kept as the file's mtime).
  func setModified(_ secondsSince1970: Int64) throws {
    let time = timespec(tv_sec: Int(secondsSince1970), tv_nsec: 0)
    let times = [time, time]
    guard futimens(descriptor, times) == 0 else {
      throw LocalStoreError.system(errno, path: path, operation: "set modification time")
    }
  }
}
