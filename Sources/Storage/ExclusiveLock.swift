import Foundation
import MailCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Another process holds a lock: who, and since when.
public struct LockHeldError: UserFacingError, Sendable, Equatable {
  public let path: String
  /// What the holder wrote into the lock file ("pid 123, backup, since …"), if readable.
  public let holder: String

  public var description: String {
    "\(path) is held by another MailFerry run" + (holder.isEmpty ? "" : " (\(holder))")
  }

  public var hint: String? {
    "the previous run is still going; let it finish (the lock is released when that process ends, even if it is killed)"
  }
}

/// An advisory `flock` on a file, held until `release` or the process ends (a killed
/// process never leaves a stale lock behind). The file records who holds it, for the message
/// a second run prints.
public final class ExclusiveLock: @unchecked Sendable {
  public let path: String
  private var descriptor: Int32

  private init(path: String, descriptor: Int32) {
    self.path = path
    self.descriptor = descriptor
  }

  /// Takes the lock without waiting, or throws `LockHeldError`.
  public static func acquire(path: String, purpose: String) throws -> ExclusiveLock {
    try FileSecurity.createPrivateFileIfMissing(atPath: path)
    let descriptor = open(path, O_RDWR | O_CLOEXEC)
    guard descriptor >= 0 else { throw FileError(path: path, operation: "open lock file", errno: errno) }
    if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
      let code = errno
      let holder =
        (try? String(contentsOfFile: path, encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
      close(descriptor)
      if code == EWOULDBLOCK { throw LockHeldError(path: path, holder: holder) }
      throw FileError(path: path, operation: "lock", errno: code)
    }
    let stamp = ISO8601DateFormatter().string(from: Date())
    let text = Array("pid \(getpid()), \(purpose), since \(stamp)\n".utf8)
    _ = ftruncate(descriptor, 0)
    _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    return ExclusiveLock(path: path, descriptor: descriptor)
  }

  public func release() {
    guard descriptor >= 0 else { return }
    _ = ftruncate(descriptor, 0)
    flock(descriptor, LOCK_UN)
    close(descriptor)
    descriptor = -1
  }

  deinit { release() }
}
