import MailCore

/// Which message bodies a source writes to a spool file instead of holding them in memory:
/// those larger than `threshold` bytes (as the server announces them, or as they grow).
public struct SpoolPolicy: Sendable, Equatable {
  public var threshold: Int
  /// Where spool files go (`MessageSpooler.defaultDirectory`: `$TMPDIR`, else `/tmp`).
  public var directory: String

  public init(threshold: Int, directory: String = MessageSpooler.defaultDirectory) {
    self.threshold = threshold
    self.directory = directory
  }

  /// Never spool: every body is read into memory (sources that do not spool yet, tests).
  public static let never = SpoolPolicy(threshold: .max)

  public func spools(size: UInt64) -> Bool { threshold != .max && size > UInt64(threshold) }
}
