import Foundation

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

  public func folderPath(directory: String) -> String { foldersPath + "/" + directory }
  public func dataPath(directory: String, file: String) -> String { folderPath(directory: directory) + "/" + file }

  /// `000001.mbox.gz` and its `000001.manifest`.
  public static func dataFileName(number: Int) -> String { number.zeroPadded(6) + ".mbox.gz" }
  public static func manifestName(forDataFile name: String) -> String {
    String(name.dropLast(".mbox.gz".count)) + ".manifest"
  }
  public static func dataFileNumber(_ name: String) -> Int? {
    guard name.hasSuffix(".mbox.gz") else { return nil }
    return Int(name.dropLast(".mbox.gz".count))
  }

  /// A folder's directory name: the UTF-8 name with every byte outside `A-Z a-z 0-9 - _ .`
  /// written as `%XX` (so `/` is `%2F`), and a leading `.` too. Reversible and safe in any
  /// shell or file system.
  public static func directoryName(forFolder name: String) -> String {
    var out = ""
    for (index, byte) in name.utf8.enumerated() {
      let safe =
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        || byte == 0x2D || byte == 0x5F || (byte == 0x2E && index > 0)
      if safe {
        out.unicodeScalars.append(Unicode.Scalar(byte))
      } else {
        out += "%" + String(byte, radix: 16, uppercase: true).zeroPadded(2)
      }
    }
    return out
  }

  /// The folder name a directory stands for (a `~N` suffix told case-twins apart).
  public static func folderName(forDirectory directory: String) -> String? {
    var base = Substring(directory)
    if let tilde = base.lastIndex(of: "~"), Int(base[base.index(after: tilde)...]) != nil { base = base[..<tilde] }
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
