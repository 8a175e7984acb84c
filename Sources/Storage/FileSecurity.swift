import Foundation
import MailCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failure to create, write or sync a local file, naming the path and the cause.
public struct FileError: UserFacingError, Sendable {
  public let path: String
  public let operation: String
  public let errno: Int32

  public init(path: String, operation: String, errno: Int32) {
    self.path = path
    self.operation = operation
    self.errno = errno
  }

  public var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }

  public var description: String {
    "\(path): \(operation) failed: \(String(cString: strerror(errno)))"
  }

  public var hint: String? {
    switch errno {
    case ENOSPC, EDQUOT: return "free some space and run the same command again (nothing committed was lost)"
    case EACCES, EPERM: return "check the permissions of the path and of its parent directories"
    case EROFS: return "the file system is read-only; choose another place"
    case ENAMETOOLONG: return "the name is too long for this file system; choose a shorter path"
    default: return nil
    }
  }

  /// A local file problem stops the job: the next file would fail the same way.
  public var scope: FailureScope { .job }
  public var isTemporary: Bool { errno == EINTR || errno == EAGAIN }
  public var kind: FailureKind { isTemporary ? .serverUnavailable : .localIO }
}

/// State, archives and traces hold mail and credentials: files are 0600, directories 0700.
public enum FileSecurity {
  /// Creates `path` and missing parents with mode 0700.
  public static func createPrivateDirectory(atPath path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      guard isDirectory.boolValue else { throw FileError(path: path, operation: "create directory", errno: ENOTDIR) }
      return
    }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty && parent != path {
      try createPrivateDirectory(atPath: parent)
    }
    if mkdir(path, 0o700) != 0 && Glibc.errno != EEXIST {
      throw FileError(path: path, operation: "create directory", errno: Glibc.errno)
    }
  }

  /// Creates an empty file with mode 0600 unless it exists, creating parent directories
  /// 0700. An existing file readable by others (a state file copied with `cp`, say) is
  /// made 0600, and so are SQLite's `-wal`, `-shm` and `-journal` files beside it.
  public static func createPrivateFileIfMissing(atPath path: String) throws {
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty { try createPrivateDirectory(atPath: parent) }
    let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw FileError(path: path, operation: "create", errno: Glibc.errno) }
    defer { close(fd) }
    try makePrivate(fd, path: path)
    for suffix in ["-wal", "-shm", "-journal"] {
      let companion = open(path + suffix, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
      guard companion >= 0 else { continue }
      defer { close(companion) }
      try makePrivate(companion, path: path + suffix)
    }
  }

  /// Takes away group and other permissions from an open file.
  public static func makePrivate(_ fd: Int32, path: String) throws {
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw FileError(path: path, operation: "stat", errno: Glibc.errno) }
    guard info.st_mode & 0o077 != 0 else { return }
    if fchmod(fd, info.st_mode & 0o700) != 0 {
      throw FileError(path: path, operation: "make private (chmod 600)", errno: Glibc.errno)
    }
  }

  /// Flushes a directory entry (a new or renamed file inside it) to disk.
  public static func syncDirectory(atPath path: String) throws {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw FileError(path: path, operation: "open directory for sync", errno: Glibc.errno) }
    defer { close(fd) }
    if fsync(fd) != 0 { throw FileError(path: path, operation: "sync directory", errno: Glibc.errno) }
  }

  /// The permission bits of `path`, for checks and tests.
  public static func permissions(ofPath path: String) throws -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { throw FileError(path: path, operation: "stat", errno: Glibc.errno) }
    return Int(info.st_mode & 0o777)
  }
}
