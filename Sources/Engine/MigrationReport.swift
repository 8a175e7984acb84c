/// What happened to one folder.
public struct FolderReport: Sendable, Equatable {
  public var source: String
  public var target: String
  /// Messages in the source folder that the run looked at (after filters).
  public var considered = 0
  public var copied = 0
  public var copiedBytes = 0
  /// Messages the target already holds, copy for copy; `duplicatesByMessageID` of them
  /// only by Message-ID (`--dedup message-id`), with other content.
  public var duplicates = 0
  public var duplicatesByMessageID = 0
  /// Earlier runs' in-flight messages found already in the target.
  public var reconciled = 0
  public var filtered = 0
  public var failed: [(uid: UInt32, reason: String)] = []
  public var droppedKeywords: Set<String> = []
  /// SMTP/LMTP: messages delivered to some recipients but refused by others (`recipient:
  /// reply`). The message counts as copied; the refusal is not retried.
  public var recipientRefusals: [(uid: UInt32, reason: String)] = []
  /// `--sync-flags`: copies whose flags were brought in line with the source.
  public var flagsUpdated = 0
  /// `--delete-source`: source messages removed (or marked \Deleted) after their copy was confirmed.
  public var deletedFromSource = 0
  /// The run was asked to stop (Ctrl-C) before the folder was finished.
  public var interrupted = false
  public var notes: [String] = []
  /// Set when the folder could not be finished (connection lost for good, …).
  public var error: String?

  public init(source: String, target: String) {
    self.source = source
    self.target = target
  }

  public static func == (lhs: FolderReport, rhs: FolderReport) -> Bool {
    lhs.source == rhs.source && lhs.target == rhs.target && lhs.copied == rhs.copied && lhs.duplicates == rhs.duplicates
      && lhs.failed.map(\.uid) == rhs.failed.map(\.uid) && lhs.error == rhs.error
  }

  public var isComplete: Bool { failed.isEmpty && recipientRefusals.isEmpty && error == nil && !interrupted }
}

/// The whole job.
public struct MigrationReport: Sendable {
  public var folders: [FolderReport] = []
  public var warnings: [String] = []
  public var seconds: Double = 0
  /// Stopped early on request; what was committed stays committed.
  public var interrupted = false

  public var copied: Int { folders.reduce(0) { $0 + $1.copied } }
  public var copiedBytes: Int { folders.reduce(0) { $0 + $1.copiedBytes } }
  public var duplicates: Int { folders.reduce(0) { $0 + $1.duplicates } }
  public var failed: Int { folders.reduce(0) { $0 + $1.failed.count } }
  /// Everything that should have moved did.
  public var isComplete: Bool { !interrupted && folders.allSatisfy(\.isComplete) }
}

/// Progress as it happens, for the display.
public enum MigrationEvent: Sendable {
  /// The folders, and an estimate of the messages still to look at in each (source count
  /// minus what the checkpoint has done), for the progress display.
  case planned([PlannedFolder], estimates: [String: Int])
  case folderStarted(source: String, target: String, toDo: Int, bytes: UInt64)
  case batchDone(source: String, copied: Int, duplicates: Int, failed: Int, bytes: Int)
  case folderFinished(FolderReport)
  case reconnecting(source: String, reason: String)
  /// A message the target refused; the job goes on.
  case refused(source: String, uid: UInt32, reason: String)
}
