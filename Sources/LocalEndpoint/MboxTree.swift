import MailCore
import Mailstore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A directory of mbox files: each file is a folder named by its path below the directory,
/// separator `/`. Thunderbird keeps the children of folder `NAME` in `NAME.sbd/`; a plain
/// subdirectory (mutt) works the same way when reading. `.msf` index files and dot files
/// are not folders, and a file that does not start with `From ` is passed over with a
/// reason. MailFerry writes children into `NAME.sbd/`.
enum MboxTree {
  static let separator: Character = "/"
  static let childDirectorySuffix = ".sbd"
  static let maximumDepth = 64

  struct Listing {
    var folders: [FolderDescriptor]
    var skipped: [SkippedItem]
  }

  static func list(root: String) throws -> Listing {
    var selectable: [String: Bool] = [:]
    var skipped: [SkippedItem] = []
    func walk(_ directory: String, prefix: String, depth: Int) throws {
      guard depth < maximumDepth else { return }
      var unreadable: [String] = []
      let names = try LocalFiles.list(directory, unreadable: &unreadable)
      for path in unreadable {
        skipped.append(SkippedItem(path: path, reason: "a name that is not UTF-8 was left out"))
      }
      for name in names.sorted() where !name.hasPrefix(".") && !name.hasSuffix(".msf") {
        let path = LocalFiles.join(directory, name)
        guard let status = try LocalFiles.status(path) else { continue }
        if status.isDirectory {
          let level = name.hasSuffix(childDirectorySuffix) ? String(name.dropLast(childDirectorySuffix.count)) : name
          let folder = prefix + LongNames.name(of: level, in: directory)
          if selectable[folder] == nil { selectable[folder] = false }
          try walk(path, prefix: folder + "/", depth: depth + 1)
        } else if status.isRegular {
          if try startsLikeMbox(path) {
            selectable[prefix + LongNames.name(of: name, in: directory)] = true
          } else {
            skipped.append(SkippedItem(path: path, reason: "not an mbox file (it does not start with \"From \")"))
          }
        }
      }
    }
    try walk(root, prefix: "", depth: 0)
    let folders = selectable.keys.sorted().map {
      FolderDescriptor(name: $0, separator: separator, selectable: selectable[$0]!)
    }
    return Listing(folders: folders, skipped: skipped)
  }

  /// Whether a file is empty or starts with `From `.
  static func startsLikeMbox(_ path: String) throws -> Bool {
    let file = try LocalFile(path: path, flags: O_RDONLY)
    let start = try file.read(from: 0, count: 5)
    return start.isEmpty || start == Array("From ".utf8)
  }

  /// The levels of a folder name MailFerry will create: none empty, `.` or `..`, none
  /// starting with `.` (hidden, and MailFerry's own files) or ending in `.sbd` or `.msf`.
  static func checkedLevels(_ folder: String) throws -> [String] {
    let levels = folder.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
    for level in levels {
      let reason: String?
      if level.isEmpty {
        reason = "a level of the name is empty"
      } else if level.hasPrefix(".") {
        reason = "a level of the name starts with \".\""
      } else if level.hasSuffix(childDirectorySuffix) || level.hasSuffix(".msf") {
        reason = "a level of the name ends in .sbd or .msf, which mail programs take for their own files"
      } else if level.contains("\0") {
        reason = "the name contains a NUL character"
      } else {
        reason = nil
      }
      if let reason { throw LocalStoreError.badFolderName(name: folder, reason: reason) }
    }
    return levels
  }

  /// The file of `folder` for writing: `ROOT/A.sbd/B` for `A/B`; with each level and the
  /// directory it is in, for `LongNames.record` once they exist.
  static func fileLocation(
    root: String, folder: String
  ) throws -> (
    path: String, levels: [(directory: String, level: LongNames.Level)]
  ) {
    // A control character would end up in a file name: written as %XX.
    let named = try checkedLevels(folder).map { LongNames.level(ControlCharacters.percentEncoded($0)) }
    var path = root
    var levels: [(directory: String, level: LongNames.Level)] = []
    for level in named.dropLast() {
      levels.append((path, level))
      path = LocalFiles.join(path, level.component + childDirectorySuffix)
    }
    levels.append((path, named.last!))
    return (LocalFiles.join(path, named.last!.component), levels)
  }

  /// The file of an existing `folder` for reading: each parent level is `NAME.sbd/` or a
  /// plain directory `NAME/`, whichever exists.
  static func existingFilePath(root: String, folder: String) throws -> String {
    let levels = folder.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
    if levels.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
      throw LocalStoreError.badFolderName(name: folder, reason: "not a folder of this mbox directory")
    }
    var path = root
    for level in levels.dropLast().map(LongNames.component) {
      let thunderbird = LocalFiles.join(path, level + childDirectorySuffix)
      let plain = LocalFiles.join(path, level)
      path = LocalFiles.isDirectory(thunderbird) || !LocalFiles.isDirectory(plain) ? thunderbird : plain
    }
    return LocalFiles.join(path, LongNames.component(levels.last ?? folder))
  }
}
