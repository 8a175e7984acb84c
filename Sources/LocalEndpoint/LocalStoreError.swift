import MailCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What went wrong with a local mail store (Maildir, mbox, .eml directory): the path, the
/// cause and what to do. Each one stops the folder being copied; what was committed before
/// it stays committed.
public enum LocalStoreError: UserFacingError, Equatable, Sendable {
  case notFound(path: String)
  case notADirectory(path: String)
  /// The path exists but is not a mail store of the expected kind.
  case notAMaildir(path: String)
  case notAnMbox(path: String)
  case permissionDenied(path: String, operation: String)
  /// ENOSPC or EDQUOT: the job stops after the last committed batch.
  case diskFull(path: String, operation: String)
  /// Any other failed system call, with its errno.
  case ioFailed(path: String, operation: String, errno: Int32)
  /// A folder name the store cannot hold (a `/` inside a Maildir name, `..`, an empty level).
  case badFolderName(name: String, reason: String)
  /// A MailFerry bookkeeping file (`mailferry-uidlist`, `.mailferry-validity`) that does not
  /// parse: something other than MailFerry wrote it.
  case damagedIndex(path: String, reason: String)
  /// The mbox file was rewritten while it was being read (its records moved).
  case mboxChanged(path: String)
  /// `--delete-source` on an mbox: records cannot be removed from the file in place.
  case removalUnsupported(path: String)
  /// The engine called the store before opening a folder (a bug in MailFerry).
  case noFolderOpen(store: String)

  public var description: String {
    switch self {
    case .notFound(let path): return "\(path): no such file or directory"
    case .notADirectory(let path): return "\(path): not a directory"
    case .notAMaildir(let path): return "\(path): not a Maildir (no cur/ and new/, and no .FOLDER subdirectories)"
    case .notAnMbox(let path): return "\(path): not an mbox file (it does not start with a \"From \" line)"
    case .permissionDenied(let path, let operation): return "\(path): \(operation) failed: permission denied"
    case .diskFull(let path, let operation): return "\(path): \(operation) failed: no space left on the device"
    case .ioFailed(let path, let operation, let code):
      return "\(path): \(operation) failed: \(String(cString: strerror(code)))"
    case .badFolderName(let name, let reason): return "folder \"\(name)\": \(reason)"
    case .damagedIndex(let path, let reason): return "\(path): damaged: \(reason)"
    case .mboxChanged(let path): return "\(path): the mbox file changed while it was being read"
    case .removalUnsupported(let path):
      return "\(path): messages cannot be deleted from an mbox file; it was left unchanged"
    case .noFolderOpen(let store): return "\(store): no folder is open (internal error)"
    }
  }

  public var hint: String? {
    switch self {
    case .notFound: return "check the path"
    case .notADirectory: return "give the path of a directory"
    case .notAMaildir:
      return "a Maildir holds cur/, new/ and tmp/ directories, with subfolders as .NAME directories; check the path"
    case .notAnMbox: return "check the path; an mbox file starts with a line \"From sender date\""
    case .permissionDenied: return "check the permissions of the path and of its parent directories"
    case .diskFull: return "free some space and run again (nothing committed was lost)"
    case .ioFailed: return nil
    case .badFolderName: return "give the folder another name with --folder-map"
    case .damagedIndex:
      return "move the file aside and run again: MailFerry writes a new one and finds earlier copies by content"
    case .mboxChanged: return "run again when no other program is rewriting the file"
    case .removalUnsupported: return "run without --delete-source"
    case .noFolderOpen: return "please report this"
    }
  }

  /// The error for a failed system call: `errno` turned into the case a person can act on.
  static func system(_ code: Int32, path: String, operation: String) -> LocalStoreError {
    switch code {
    case ENOENT: return .notFound(path: path)
    case ENOTDIR: return .notADirectory(path: path)
    case EACCES, EPERM: return .permissionDenied(path: path, operation: operation)
    case ENOSPC, EDQUOT: return .diskFull(path: path, operation: operation)
    default: return .ioFailed(path: path, operation: operation, errno: code)
    }
  }

  public var scope: FailureScope {
    switch self {
    case .notFound, .notADirectory, .notAMaildir, .notAnMbox, .permissionDenied, .diskFull, .removalUnsupported:
      return .job
    case .ioFailed, .badFolderName, .damagedIndex, .mboxChanged, .noFolderOpen: return .folder
    }
  }

  /// Another program rewriting an mbox may be done next time; the rest needs the user.
  public var isTemporary: Bool {
    if case .mboxChanged = self { return true }
    return false
  }

  public var kind: FailureKind {
    switch self {
    case .removalUnsupported: return .configuration
    case .permissionDenied, .diskFull, .ioFailed: return .localIO
    case .notFound, .notADirectory, .notAMaildir, .notAnMbox, .damagedIndex, .mboxChanged, .badFolderName:
      return .inputData
    case .noFolderOpen: return .other
    }
  }

  public var isDiskFull: Bool {
    if case .diskFull = self { return true }
    return false
  }
}

/// Something a local source or sink passed over, and why (an unreadable file name, a file
/// that is not an mbox, a torn record that was set aside).
public struct SkippedItem: Sendable, Equatable, CustomStringConvertible {
  public var path: String
  public var reason: String

  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): \(reason)" }
}
