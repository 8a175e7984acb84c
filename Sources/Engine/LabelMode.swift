import Checkpoint
import Foundation
import MailCore

/// How a source whose folders are labels (Gmail: one message can sit in several folders,
/// and every message is in All Mail) is copied. In every mode All Mail is read only for
/// the messages in no label, which go to the target's `Archive`, and the Starred and
/// Important views are not copied as folders (the `\Flagged` flag carries the star).
public enum LabelMode: String, Sendable, CaseIterable {
  /// A copy in the target folder of each label: what Gmail's users see. The default.
  case folders
  /// One copy, in the first label folder the job reaches (INBOX, then the special folders,
  /// then the others), carrying its user labels as keywords: from X-GM-LABELS when the
  /// source sends them, and added after the folders from the other label folders that
  /// hold the message.
  case keywords
  /// One copy, in the first label folder the job reaches; other labels are not kept.
  case first

  /// Whether a message is copied once for the whole account rather than once per label.
  var copiesOnce: Bool { self != .folders }
}

/// Gmail's labels that mark a message's state rather than a place: a message carrying only
/// these is "in no label" (All Mail only).
let stateLabels: Set<String> = ["\\IMPORTANT", "\\STARRED"]

/// Whether a label source says the message is in some label folder besides All Mail.
func isInSomeLabel(_ labels: [String]) -> Bool {
  labels.contains { !stateLabels.contains($0.uppercased()) }
}

/// Which messages of a label source have been copied for some label, shared by the job's
/// workers: what earlier runs recorded in the checkpoint, and what this run's folders claim.
final class LabelLedger: @unchecked Sendable {
  private let lock = NSLock()
  private var claims: [SHA256Digest: Int64] = [:]
  private var globalClaims: [UInt64: Int64] = [:]
  let mode: LabelMode

  init(mode: LabelMode) { self.mode = mode }

  /// True when the message with this content is copied, or being copied, for another folder
  /// of the job. In a copy-once mode the first folder to ask claims it.
  func isElsewhere(_ hash: SHA256Digest, folder: Int64, store: CheckpointStore) throws -> Bool {
    if try store.isHeldInOtherFolder(sha256: hash, folder: folder) { return true }
    return lock.withLock {
      if let owner = claims[hash] { return owner != folder }
      if mode.copiesOnce { claims[hash] = folder }
      return false
    }
  }

  /// The same, by Gmail's message id, before the message is read: only within this run
  /// (the checkpoint keeps content hashes, which `isElsewhere` checks after the fetch).
  func isClaimedElsewhere(globalID: UInt64, folder: Int64) -> Bool {
    guard mode.copiesOnce else { return false }
    return lock.withLock {
      if let owner = globalClaims[globalID] { return owner != folder }
      globalClaims[globalID] = folder
      return false
    }
  }
}

/// A label's name as an IMAP keyword: atom characters kept, anything else `_`.
func keyword(forLabel label: String) -> String {
  let forbidden = Set("(){%*\"\\] ")
  let mapped = label.map { character -> Character in
    guard let ascii = character.asciiValue, ascii > 0x20, ascii < 0x7F, !forbidden.contains(character) else {
      return "_"
    }
    return character
  }
  return String(mapped)
}
