import Checkpoint
import Foundation
import MailCore

/// The bytes a job may still move today under its provider's daily volume limits, shared
/// by every worker. It starts from what the checkpoint says the job moved in the last 24
/// hours and counts each batch before it is fetched, so a run stops before it crosses a
/// limit, not after. Traffic of other programs on the same account is not seen.
final class DailyVolume: @unchecked Sendable {
  private let lock = NSLock()
  private var used: [MigrationOptions.DailyVolumeLimit.Direction: Int64] = [:]
  private let limits: [MigrationOptions.DailyVolumeLimit]
  /// Per direction, when the oldest move counted was made (this run's start if none).
  private var oldest: [MigrationOptions.DailyVolumeLimit.Direction: Int64] = [:]

  init(
    limits: [MigrationOptions.DailyVolumeLimit], store: CheckpointStore,
    now: Int64 = Int64(Date().timeIntervalSince1970)
  )
    throws
  {
    self.limits = limits
    for limit in limits {
      let uploaded = limit.direction == .upload
      used[limit.direction] = try store.bytesMoved(since: now - 86_400, uploaded: uploaded)
      oldest[limit.direction] = try store.oldestMove(since: now - 86_400, uploaded: uploaded) ?? now
    }
  }

  /// Takes `bytes` from every limit, or throws `DailyLimitReached` when one has no room.
  func take(_ bytes: Int) throws {
    try lock.withLock {
      for limit in limits {
        let after = used[limit.direction, default: 0] + Int64(bytes)
        if after > Int64(limit.limit.value) {
          throw DailyLimitReached(
            limit: limit, used: used[limit.direction, default: 0],
            rerunAfter: oldest[limit.direction, default: Int64(Date().timeIntervalSince1970)] + 86_400)
        }
      }
      for limit in limits { used[limit.direction, default: 0] += Int64(bytes) }
    }
  }
}

/// The job would cross a provider's daily download or upload volume: it stops, and a run
/// after the limit's window has passed continues.
public struct DailyLimitReached: UserFacingError, Equatable {
  public let limit: MigrationOptions.DailyVolumeLimit
  public let used: Int64
  /// Seconds since 1970 after which the oldest counted move leaves the 24-hour window.
  public let rerunAfter: Int64

  public var description: String {
    "stopped at \(limit.limit.origin): \(ByteCountText.human(UInt64(used))) of "
      + "\(ByteCountText.human(limit.limit.value)) per day \(limit.direction == .upload ? "uploaded" : "downloaded")"
  }
  public var hint: String? {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm"
    let when = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(rerunAfter)))
    return "what was copied is kept; run the same command again after \(when) UTC, when the oldest of the "
      + "last 24 hours' transfers no longer counts"
  }
  public var scope: FailureScope { .job }
  public var isTemporary: Bool { true }
  public var kind: FailureKind { .tryLater }
}
