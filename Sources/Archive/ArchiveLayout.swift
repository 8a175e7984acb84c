import Foundation
import MailCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where things live inside an archive directory (docs/archive-format.md):
///
///     DIR/mailferry-archive            format marker
///     DIR/catalog.sqlite               the index, rebuildable from the folders
///     DIR/lock                         held while a job writes
///     DIR/folders/<name>/000001.mbox.gz    gzip mboxrd, one member per batch
///     DIR/folders/<name>/000001.manifest   the same messages' metadata, a line each
public struct ArchiveLayout: Sendable, Equatable {
  public static let formatVersion = 1
  public let root: String

  public init(root: String) {
    var trimmed = root
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    self.root = trimmed
  }

  public var markerPath: String { root + "/mailferry-archive" }
  public var catalogPath: String { root + "/catalog.sqlite" }
  /// Held exclusively by a run that writes (backup, import) or rebuilds (reindex).
  public var lockPath: String { root + "/lock" }
  /// Held shared by runs that read (restore, export, list, search, verify), exclusively by
  /// reindex, which replaces the catalog under them.
  public var readLockPath: String { root + "/read.lock" }
  public static let lockFiles: Set<String> = ["lock", "read.lock"]
  public var foldersPath: String { root + "/folders" }

  /// The folder directory's path; throws unless `directory` is a name this layout makes
  /// (a tampered catalog must not reach outside `folders/`).
  public func folderPath(directory: String) throws -> String {
    guard Self.isFolderDirectory(directory) else { throw ArchiveError.badName(archive: root, name: directory) }
    let path = foldersPath + "/" + directory
    // An archive from elsewhere may hold a symbolic link that leads out of it.
    guard !Self.isSymbolicLink(path) else { throw ArchiveError.badName(archive: root, name: directory) }
    return path
  }

  /// A data file's or manifest's path; throws unless both names are ones this layout makes.
  public func dataPath(directory: String, file: String) throws -> String {
    guard Self.isDataOrManifestName(file) else { throw ArchiveError.badName(archive: root, name: file) }
    let path = try folderPath(directory: directory) + "/" + file
    guard !Self.isSymbolicLink(path) else { throw ArchiveError.badName(archive: root, name: directory + "/" + file) }
    return path
  }

  /// Whether `path` is a symbolic link (false when it does not exist).
  static func isSymbolicLink(_ path: String) -> Bool {
    var status = stat()
    return lstat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFLNK
  }

  /// Whether `directory` could be a folder directory: 1 to 255 bytes of `A-Z a-z 0-9 - _ . % ~`,
  /// not starting with `.` (so never `.` or `..`, never a `/`).
  public static func isFolderDirectory(_ directory: String) -> Bool {
    let bytes = Array(directory.utf8)
    guard let first = bytes.first, first != 0x2E, bytes.count <= maximumComponentBytes else { return false }
    return bytes.allSatisfy { isUnreserved($0) || $0 == 0x25 || $0 == 0x7E }
  }

  /// Whether `name` is `NNNNNN.mbox.gz` or `NNNNNN.manifest` (six or more digits).
  public static func isDataOrManifestName(_ name: String) -> Bool {
    for suffix in [".mbox.gz", ".manifest"] where name.hasSuffix(suffix) {
      let digits = name.utf8.dropLast(suffix.utf8.count)
      return digits.count >= 6 && digits.count <= 18 && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
    return false
  }

  /// The longest file name component most file systems accept (ext4, XFS, APFS, NTFS count
  /// 255 bytes or UTF-16 units).
  public static let maximumComponentBytes = 255
  /// Encoded names longer than this are shortened, leaving room for a `~N` case suffix.
  static let shorteningThreshold = 240

  /// `000001.mbox.gz` and its `000001.manifest`.
  public static func dataFileName(number: Int) -> String { number.zeroPadded(6) + ".mbox.gz" }
  public static func manifestName(forDataFile name: String) -> String {
    String(name.dropLast(".mbox.gz".count)) + ".manifest"
  }
  public static func dataFileNumber(_ name: String) -> Int? {
    guard name.hasSuffix(".mbox.gz"), isDataOrManifestName(name) else { return nil }
    return Int(name.dropLast(".mbox.gz".count))
  }

  /// A folder's directory name: the UTF-8 name with every byte outside `A-Z a-z 0-9 - _ .`
  /// written as `%XX` (so `/` is `%2F`), and a leading `.` too. Reversible and safe in any
  /// shell or file system.
  ///
  /// A name whose encoding would pass 240 bytes keeps its first escapes up to 200 bytes
  /// and ends in `~h` and 16 hex digits of the name's SHA-256: stable, unique and under
  /// the file system's 255-byte limit. The catalog and the manifest keep the real name.
  public static func directoryName(forFolder name: String) -> String {
    let pieces = name.utf8.enumerated().map { index, byte in
      isUnreserved(byte) && (byte != 0x2E || index > 0)
        ? String(Unicode.Scalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).zeroPadded(2)
    }
    let encoded = pieces.joined()
    guard encoded.utf8.count > shorteningThreshold else { return encoded }
    var prefix = ""
    for piece in pieces {
      guard prefix.utf8.count + piece.utf8.count <= 200 else { break }
      prefix += piece
    }
    return prefix + "~h" + SHA256Hasher.hash(Array(name.utf8)).hex.prefix(16)
  }

  private static func isUnreserved(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
      || byte == 0x2D || byte == 0x5F || byte == 0x2E
  }

  /// The folder name a directory stands for (a `~N` suffix told case-twins apart); nil for
  /// a shortened name (`~h` and a hash), whose full name only the manifest holds.
  public static func folderName(forDirectory directory: String) -> String? {
    var base = Substring(directory)
    if let tilde = base.lastIndex(of: "~"), Int(base[base.index(after: tilde)...]) != nil { base = base[..<tilde] }
    if base.contains("~h") { return nil }
    return PercentEncoding.decode(String(base))
  }
}

/// `%XX` escapes for manifest values and folder directories.
enum PercentEncoding {
  /// Escapes `%`, control characters, tab, space and DEL; other bytes stay as they are.
  static func encode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
      if byte <= 0x20 || byte == 0x25 || byte == 0x7F {
        out += "%" + String(byte, radix: 16, uppercase: true).zeroPadded(2)
      } else {
        out.unicodeScalars.append(Unicode.Scalar(byte))
      }
    }
    // Non-ASCII bytes were appended one by one as scalars: rebuild them as UTF-8.
    return String(decoding: out.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }, as: UTF8.self)
  }

  static func decode(_ text: String) -> String? {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8).makeIterator()
    while let byte = iterator.next() {
      if byte == 0x25 {
        guard let high = iterator.next(), let low = iterator.next(),
          let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
        else { return nil }
        bytes.append(value)
      } else {
        bytes.append(byte)
      }
    }
    return String(validating: bytes, as: UTF8.self)
  }
}

extension BinaryInteger {
  func zeroPadded(_ width: Int) -> String {
    let text = String(self)
    return String(repeating: "0", count: max(0, width - text.count)) + text
  }
}

extension String {
  func zeroPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
