import MailCore

/// What went wrong with an archive directory. File system failures stay `FileError`s
/// (they name the path and say when the disk is full).
public enum ArchiveError: UserFacingError, Equatable, Sendable {
  /// The directory holds something that is not a MailFerry archive.
  case notAnArchive(path: String)
  /// Nothing was backed up there yet (missing, empty, or only lock files).
  case noArchiveYet(path: String)
  /// The archive was written by a newer MailFerry.
  case unsupportedFormat(path: String, version: Int)
  /// A data file is shorter than the catalog says: committed messages are missing.
  case dataMissing(path: String, expected: Int, found: Int)
  /// A message the catalog lists cannot be read back.
  case unreadable(path: String, offset: Int, reason: String)
  case noSuchFolder(name: String)
  /// The catalog is gone but data files are there.
  case catalogMissing(path: String)
  /// The catalog or a manifest names a directory or file this layout never makes
  /// (`../x`, `/etc`): it was damaged or tampered with. Nothing outside the archive is opened.
  case badName(archive: String, name: String)

  public var description: String {
    switch self {
    case .notAnArchive(let path):
      return "\(path) is not a MailFerry archive (no 'mailferry-archive' file, and the directory is not empty)"
    case .noArchiveYet(let path):
      return "\(path) holds no MailFerry archive yet"
    case .unsupportedFormat(let path, let version):
      return "\(path) is an archive of format \(version), which this MailFerry does not know"
    case .dataMissing(let path, let expected, let found):
      return "\(path) is \(found) bytes long, but the catalog has committed \(expected) bytes to it"
    case .unreadable(let path, let offset, let reason):
      return "\(path): the message at byte \(offset) cannot be read: \(reason)"
    case .noSuchFolder(let name):
      return "the archive has no folder '\(name)'"
    case .catalogMissing(let path):
      return "\(path) has data files but no catalog.sqlite"
    case .badName(let archive, let name):
      return
        "\(archive): the catalog names '\(name)', which is not a folder directory or data file of an archive "
        + "(or is a symbolic link)"
    }
  }

  public var hint: String? {
    switch self {
    case .notAnArchive: return "give an empty or new directory, or an archive made by 'mailferry backup'"
    case .noArchiveYet: return "back something up into it first ('mailferry backup SOURCE DIR'), or check the path"
    case .unsupportedFormat: return "use a newer MailFerry to read it"
    case .dataMissing, .unreadable:
      return "run 'mailferry archive verify DIR' to see what is damaged, then 'mailferry archive reindex DIR'"
    case .noSuchFolder: return "'mailferry archive list DIR' shows the folders"
    case .catalogMissing: return "rebuild it from the data files with 'mailferry archive reindex DIR'"
    case .badName: return "the catalog is damaged or was tampered with: rebuild it with 'mailferry archive reindex DIR'"
    }
  }

  public var scope: FailureScope {
    switch self {
    case .dataMissing, .unreadable: return .folder
    default: return .job
    }
  }

  public var isTemporary: Bool { false }
  public var kind: FailureKind {
    switch self {
    case .notAnArchive, .noArchiveYet, .noSuchFolder, .unsupportedFormat, .dataMissing, .unreadable, .catalogMissing,
      .badName:
      return .inputData
    }
  }
}
