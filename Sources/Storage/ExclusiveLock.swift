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

  public init(path: String, holder: String) {
    self.path = path
    self.holder = holder
  }

  public var description: String {
    "\(path) is held by another MailFerry run" + (holder.isEmpty ? " (one that reads it)" : " (\(holder))")
  }

  public var hint: String? {
    "the previous run is still going; let it finish (the lock is released when that process ends, even if it is killed)"
  }

  public var scope: FailureScope { .job }
  public var isTemporary: Bool { true }
  public var kind: FailureKind { .tryLater }
}

/// An advisory `flock` on a file, held until `release` or the process ends (a killed
/// process never leaves a stale lock behind). The file records who holds it, for the message
/// a second run prints.
public final class ExclusiveLock: @unchecked Sendable {
  public let path: String
  private var descriptor: Int32
  private let shared: Bool

  private init(path: String, descriptor: Int32, shared: Bool) {
    self.path = path
    self.descriptor = descriptor
    self.shared = shared
  }

  /// Takes the lock without waiting, or throws `LockHeldError`. A `shared` lock may be held
  /// by several runs at once (readers) and keeps out an exclusive one. The directory the
  /// lock file goes in must exist.
  public static func acquire(path: String, purpose: String, shared: Bool = false) throws -> ExclusiveLock {
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw FileError(path: path, operation: "open lock file", errno: errno) }
    if flock(descriptor, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
      let code = errno
      let holder = code == EWOULDBLOCK ? holderLine(path) : ""
      close(descriptor)
      if code == EWOULDBLOCK { throw LockHeldError(path: path, holder: holder) }
      throw FileError(path: path, operation: "lock", errno: code)
    }
    if !shared {
      let stamp = ISO8601DateFormatter().string(from: Date())
      let text = Array("pid \(getpid()), \(purpose), since \(stamp)\n".utf8)
      _ = ftruncate(descriptor, 0)
      _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }
    return ExclusiveLock(path: path, descriptor: descriptor, shared: shared)
  }

  /// The holder's line. A writer locks, then writes it, so an empty file is read again for
  /// up to 200 ms before the holder is taken for a reader (readers write nothing).
  private static func holderLine(_ path: String) -> String {
    for attempt in 0...20 {
      let text =
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
      if !text.isEmpty || attempt == 20 { return text }
      usleep(10_000)
    }
    return ""
  }

  public func release() {
    guard descriptor >= 0 else { return }
    if !shared { _ = ftruncate(descriptor, 0) }
    flock(descriptor, LOCK_UN)
    close(descriptor)
    descriptor = -1
  }

  deinit { release() }
}
