import Checkpoint
import MailCore
import Mailstore

/// A label source (Gmail): one message in several folders, and all of them in All Mail.
extension FolderCopier {
  /// Whether this folder's messages are checked against the job's other folders: All Mail
  /// always, every folder when a message is copied once for the account.
  var checksOtherLabels: Bool {
    guard let ledger else { return false }
    return plan.onlyUnlabelled || ledger.mode.copiesOnce
  }

  /// Leaves out, before they are read, the messages the source says are elsewhere: in All
  /// Mail those in some label, in a copy-once mode those another folder has claimed in this
  /// run. They count as finished, so the folder's high-water mark moves past them.
  func leaveOutLabelled(
    _ messages: [SourceMessage], state: FolderState, progress: inout Progress
  ) throws -> [SourceMessage] {
    guard let ledger, checksOtherLabels else { return messages }
    var kept: [SourceMessage] = []
    for message in messages {
      let elsewhere =
        plan.onlyUnlabelled
        ? message.labels.map(isInSomeLabel) ?? false
        : message.globalID.map { ledger.isClaimedElsewhere(globalID: $0, folder: state.id) } ?? false
      if elsewhere {
        report.inOtherLabels += 1
        progress.finished.insert(message.key)
      } else {
        kept.append(message)
      }
    }
    if kept.count < messages.count, !options.dryRun, let lastUID = progress.advance() {
      try store.advance(folder: state.id, lastUID: lastUID)
    }
    return kept
  }

  /// After reading: whether a message with this content is copied for another label.
  func isInOtherLabel(_ hash: SHA256Digest, state: FolderState) throws -> Bool {
    guard let ledger, checksOtherLabels else { return false }
    return try ledger.isElsewhere(hash, folder: state.id, store: store)
  }

  /// `--gmail-labels keywords`: the message's user labels as keywords on its one copy.
  func labelKeywords(_ message: SourceMessage) -> [String] {
    guard ledger?.mode == .keywords else { return [] }
    var keywords = (message.labels ?? []).filter { !$0.hasPrefix("\\") }.map(keyword(forLabel:))
    let folder = plan.source.name
    if folder.uppercased() != "INBOX", plan.source.specialUse == nil, !plan.onlyUnlabelled {
      keywords.append(keyword(forLabel: folder))
    }
    return Array(Set(keywords)).sorted()
  }
}
