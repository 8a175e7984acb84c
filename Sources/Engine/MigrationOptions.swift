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
  /// INTERNALDATE bounds, seconds since 1970 (since inclusive, before exclusive).
  public var since: Int64?
  public var before: Int64?
  public var maxSize: UInt64?
  public var connections = 2
  public var dryRun = false
  /// Carry flag changes made in the source since the last run to copies made earlier.
  public var syncFlags = false
  /// Remove source messages whose copies are committed and confirmed in the target.
  public var deleteSource = false
  /// With `deleteSource`: remove only copies committed at least this many days ago
  /// (`--keep-days N`, the POP3 "leave on server for N days").
  public var keepDays: Int?
  /// Messages per batch, and a byte bound so a batch stays small in memory.
  public var batchCount = 50
  public var batchBytes = 16 << 20
  /// Reconnects per folder after a dropped connection before giving up.
  public var retries = 3
  /// How closely each stored copy is read back and compared with what was sent (as far as
  /// the sink can; nil: not at all). The default, size and header, costs one small FETCH
  /// per batch on IMAP and catches the common server rewrites (8-bit header bytes, added
  /// or reordered fields); `.content` hashes every stored byte again.
  public var verify: ReadBackDepth? = .header

  public init() {}
}
