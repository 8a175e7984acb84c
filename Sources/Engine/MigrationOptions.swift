import Mailstore

/// How a migration runs.
public struct MigrationOptions: Sendable {
  public enum Dedup: String, Sendable, CaseIterable {
    /// Skip what the target already holds with the same content (copy for copy).
    case hash
    /// Also skip a message whose normalised Message-ID is already in the target folder.
    case messageID = "message-id"
    /// Copy everything.
    case none
  }

  public var dedup: Dedup = .hash
  public var include: [String] = []
  public var exclude: [String] = []
  public var folderMap: [String: String] = [:]
  /// Skipped views, providers' special-use names and `s/…/…/` rules.
  public var naming = FolderNaming()
  /// INTERNALDATE bounds, seconds since 1970 (since inclusive, before exclusive).
  public var since: Int64?
  public var before: Int64?
  public var maxSize: UInt64?
  public var connections = 4
  /// Sessions a delivery sink (SMTP, LMTP) delivers over at once within a folder: up to
  /// this many messages are in flight, each in its own transaction (docs/checkpoint.md).
  public var deliverySessions = 4
  public var dryRun = false
  /// Carry flag changes made in the source since the last run to copies made earlier.
  public var syncFlags = false
  /// Remove source messages whose copies are committed and confirmed in the target.
  public var deleteSource = false
  /// With `deleteSource`: remove only copies committed at least this many days ago
  /// (`--keep-days N`, the POP3 "leave on server for N days").
  public var keepDays: Int?
  /// Messages per batch, and a byte bound so batches stay small in memory: `batchBytes` is
  /// the job's, shared out between its connections (`batchBytesPerConnection`), so more
  /// connections do not hold more bytes.
  public var batchCount = 50
  public var batchBytes = 8 << 20
  /// A message larger than this (or than its connection's share of `batchBytes`) is
  /// spooled to a private temporary file as it is read and written from there in chunks,
  /// never held whole (docs/architecture.md, "How bodies flow").
  public var spoolThreshold = 4 << 20
  /// Where spool files go; nil for `$TMPDIR`, else `/tmp`.
  public var spoolDirectory: String?
  /// Reconnects per folder after a dropped connection before giving up (throttling pauses
  /// do not count: `throttling.maxWait` bounds them).
  public var retries = 3
  /// Backoff when servers throttle, the wait budget, and the job's own rate cap.
  public var throttling = ThrottlePolicy()
  /// How closely each stored copy is read back and compared with what was sent.
  public var verify: VerifyMode = .automatic
  /// The largest message the target takes, and who says so (a provider profile); the
  /// sink's own announced limit (APPENDLIMIT, SIZE) applies too. Larger messages fail as
  /// too large without being fetched.
  public var targetSizeLimit: ProviderLimit?
  /// Bytes a provider lets an account download (`.download`, the source) or upload
  /// (`.upload`, the target) per 24 hours. Reaching one stops the job as temporary.
  public var dailyVolumeLimits: [DailyVolumeLimit] = []

  /// A limit with where it comes from, for messages ("Gmail's limit (profile gmail)").
  public struct ProviderLimit: Sendable, Equatable {
    public var value: UInt64
    public var origin: String
    public init(value: UInt64, origin: String) {
      self.value = value
      self.origin = origin
    }
  }

  public struct DailyVolumeLimit: Sendable, Equatable {
    public enum Direction: String, Sendable { case download, upload }
    public var direction: Direction
    public var limit: ProviderLimit
    public init(direction: Direction, limit: ProviderLimit) {
      self.direction = direction
      self.limit = limit
    }
  }

  /// How closely stored copies are read back.
  public enum VerifyMode: Sendable, Equatable, CustomStringConvertible {
    /// Not at all (`--no-verify`).
    case off
    /// As deep as costs the sink little (`MessageSink.inexpensiveReadBackDepth`): size and
    /// header on IMAP and local files, size on an archive.
    case automatic
    /// This deep, as far as the sink can (`--verify`: `.content`).
    case at(ReadBackDepth)

    public var description: String {
      switch self {
      case .off: return "off"
      case .automatic: return "automatic"
      case .at(let depth): return depth.description
      }
    }
  }

  public init() {}
}
