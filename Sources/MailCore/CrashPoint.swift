import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// For tests only: places in the exactly-once protocol where the process can be made to die.
/// `MAILFERRY_CRASH_AT=POINT:N` (N defaults to 1) kills the process with SIGKILL, so no
/// cleanup runs, the Nth time POINT is reached. The variable is read once; when it is unset,
/// `reached()` is one comparison.
public enum CrashPoint: String, Sendable, CaseIterable {
  /// The batch is recorded as `pending` in the checkpoint; nothing is sent yet.
  case afterIntent = "after-intent"
  /// The sink has stored the batch; the checkpoint has not committed it.
  case afterStore = "after-store"
  /// The checkpoint has committed the batch.
  case afterCommit = "after-commit"
  /// Archive: the batch's gzip member is written, not yet synced.
  case afterDataWrite = "after-data-write"
  /// Archive: half of the batch's gzip member is written.
  case insideMember = "inside-member"
  /// Archive: data and manifest are synced; the catalog has not committed.
  case afterManifest = "after-manifest"
  /// Archive: inside the catalog's transaction, after the message rows, before the
  /// committed lengths move.
  case insideCatalogCommit = "inside-catalog-commit"

  /// Dies here if this is the armed point and this is the Nth time it is reached.
  @inline(__always)
  public func reached() {
    guard let armed = Self.armed, armed.point == self else { return }
    if Self.hits.add(1, ordering: .relaxed).newValue == armed.count {
      kill(getpid(), SIGKILL)
    }
  }

  /// Whether `MAILFERRY_CRASH_AT` names this point (for writes that must be split to reach it).
  public var isArmed: Bool { Self.armed?.point == self }

  /// The point and count `MAILFERRY_CRASH_AT` names, or nil when unset or unreadable.
  static let armed: (point: CrashPoint, count: Int)? = {
    guard let value = getenv("MAILFERRY_CRASH_AT").map({ String(cString: $0) }) else { return nil }
    return parse(value)
  }()

  private static let hits = Atomic<Int>(0)

  /// `POINT` or `POINT:N` with N ≥ 1.
  public static func parse(_ text: String) -> (point: CrashPoint, count: Int)? {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count <= 2, let point = CrashPoint(rawValue: String(parts[0])) else { return nil }
    guard parts.count == 2 else { return (point, 1) }
    guard let count = Int(parts[1]), count >= 1 else { return nil }
    return (point, count)
  }
}
