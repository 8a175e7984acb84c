import MailCore
import Mailstore

/// A failure as a report carries it: its words, what to do, how far it reached and whether
/// running again can help. Made from any error, so nothing downstream matches strings.
public struct ReportedFailure: Sendable, Equatable, CustomStringConvertible {
  public var description: String
  public var hint: String?
  public var scope: FailureScope
  public var isTemporary: Bool
  public var kind: FailureKind

  public init(description: String, hint: String?, scope: FailureScope, isTemporary: Bool, kind: FailureKind = .other) {
    self.description = description
    self.hint = hint
    self.scope = scope
    self.isTemporary = isTemporary
    self.kind = kind
  }

  public init(_ error: any Error) {
    self.init(
      description: String(describing: error), hint: ErrorClass.hint(for: error), scope: ErrorClass.scope(of: error),
      isTemporary: ErrorClass.isTemporary(error), kind: ErrorClass.kind(of: error))
  }
}

/// One message that did not move, and why.
public struct MessageFailure: Sendable, Equatable {
  public enum Kind: String, Sendable, Equatable {
    /// The target said no (its words in `reason`).
    case refusedByTarget = "refused"
    /// The source holds it but its bytes cannot be read (a damaged archive record).
    case unreadableInSource = "unreadable"
    /// The target acknowledged it but, read back, does not hold it.
    case missingAfterStore = "missing-after-store"
    /// Larger than the size limit of the target or of the job.
    case tooLarge = "too-large"
  }

  /// The source's key (IMAP UID).
  public var key: UInt32
  public var kind: Kind
  public var reason: String
  /// Whether a later run may succeed without anyone changing anything.
  public var isTemporary: Bool
  /// What the user can do about it, when the store said (an account over quota).
  public var hint: String?

  public init(key: UInt32, kind: Kind, reason: String, isTemporary: Bool, hint: String? = nil) {
    self.key = key
    self.kind = kind
    self.reason = reason
    self.isTemporary = isTemporary
    self.hint = hint
  }
}

/// A message the target stored with other bytes than it was given.
public struct AlteredMessage: Sendable, Equatable {
  public var key: UInt32
  /// The id the target gave its copy.
  public var targetID: UInt32?
  public var messageID: String?
  /// What differs: sizes, or the first byte that differs and where.
  public var difference: String

  public init(key: UInt32, targetID: UInt32?, messageID: String?, difference: String) {
    self.key = key
    self.targetID = targetID
    self.messageID = messageID
    self.difference = difference
  }
}

/// What happened to one folder.
public struct FolderReport: Sendable, Equatable {
  public var source: String
  public var target: String
  /// The planned target name, when the target refused it and `target` is its repair.
  public var renamedFrom: String?
  /// Messages in the source folder that the run looked at (after filters).
  public var considered = 0
  public var copied = 0
  public var copiedBytes = 0
  /// Messages of a label source (Gmail) not copied here because they are copied for
  /// another label: in All Mail, those in some label; in a copy-once mode, those another
  /// folder took.
  public var inOtherLabels = 0
  /// Messages the target already holds, copy for copy; `duplicatesByMessageID` of them
  /// only by Message-ID (`--dedup message-id`), with other content.
  public var duplicates = 0
  public var duplicatesByMessageID = 0
  /// Earlier runs' in-flight messages found already in the target.
  public var reconciled = 0
  public var filtered = 0
  public var failed: [MessageFailure] = []
  /// Copies the target stored, read back and found different from what was sent.
  public var altered: [AlteredMessage] = []
  /// Copies read back after storing (`verification` says how), and copies that could not
  /// be because the sink gave them no id.
  public var verified = 0
  public var unverified = 0
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
  public var error: ReportedFailure?

  public init(source: String, target: String) {
    self.source = source
    self.target = target
  }

  public static func == (lhs: FolderReport, rhs: FolderReport) -> Bool {
    lhs.source == rhs.source && lhs.target == rhs.target && lhs.copied == rhs.copied && lhs.duplicates == rhs.duplicates
      && lhs.failed == rhs.failed && lhs.altered == rhs.altered && lhs.error == rhs.error
  }

  /// Adds what an earlier attempt at the same folder committed before it failed (a
  /// reconnect, a throttling pause): its copies, duplicates and checks. Its failures are
  /// not added: the next attempt tries those messages again.
  mutating func addCommitted(of earlier: FolderReport) {
    copied += earlier.copied
    copiedBytes += earlier.copiedBytes
    duplicates += earlier.duplicates
    duplicatesByMessageID += earlier.duplicatesByMessageID
    inOtherLabels += earlier.inOtherLabels
    reconciled += earlier.reconciled
    verified += earlier.verified
    unverified += earlier.unverified
    altered += earlier.altered
    recipientRefusals += earlier.recipientRefusals
  }

  public var isComplete: Bool {
    failed.isEmpty && altered.isEmpty && recipientRefusals.isEmpty && error == nil && !interrupted
  }

  /// Something here may go better on a second run: a temporary failure, or an interruption.
  public var hasTemporaryProblem: Bool {
    interrupted || failed.contains(where: \.isTemporary) || (error?.isTemporary ?? false)
  }
}

/// The whole job.
public struct MigrationReport: Sendable {
  public var folders: [FolderReport] = []
  public var warnings: [String] = []
  public var seconds: Double = 0
  /// Stopped early on request; what was committed stays committed.
  public var interrupted = false
  /// Set when a failure that reaches the whole job (a full disk, a refused login) stopped it.
  public var stoppedBy: ReportedFailure?
  /// How stored copies were checked, in words ("size and header of every copy, read back
  /// from the target"), or why they were not.
  public var verification: String?
  /// `--gmail-labels keywords`: the label keywords added to copies after the folders.
  public var labelKeywords: LabelKeywordResult?
  /// Throttling pauses and rate-limit waits.
  public var waits = WaitSummary()

  public init() {}

  public var copied: Int { folders.reduce(0) { $0 + $1.copied } }
  public var copiedBytes: Int { folders.reduce(0) { $0 + $1.copiedBytes } }
  public var duplicates: Int { folders.reduce(0) { $0 + $1.duplicates } }
  public var failed: Int { folders.reduce(0) { $0 + $1.failed.count } }
  public var altered: Int { folders.reduce(0) { $0 + $1.altered.count } }
  public var verified: Int { folders.reduce(0) { $0 + $1.verified } }
  /// Everything that should have moved did.
  public var isComplete: Bool { !interrupted && stoppedBy == nil && folders.allSatisfy(\.isComplete) }
  /// Running the same command again may move more: something failed only for now.
  public var hasTemporaryProblem: Bool {
    interrupted || (stoppedBy?.isTemporary ?? false) || folders.contains(where: \.hasTemporaryProblem)
  }
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
  /// The server throttled the folder's session; the worker waits `pause` and goes on.
  case throttled(source: String, reason: String, pause: Duration)
  /// A message that did not move; the job goes on.
  case refused(source: String, uid: UInt32, reason: String)
  /// A copy the target altered; the job goes on.
  case altered(source: String, uid: UInt32, difference: String)
}
