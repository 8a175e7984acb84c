import Checkpoint
import MailCore
import Mailstore

/// `--gmail-labels keywords`: the one copy of a message carries, as keywords, the labels of
/// the other folders that hold it.
extension Migration {
  /// Adds to each copy the keywords of the label folders recorded as holding it too (the
  /// checkpoint's duplicates that another folder's copy stands for), where the copy lacks
  /// them. Runs after the folders, so it sees every label; it is cheap to repeat, so a run
  /// killed before it leaves nothing that the next run does not finish.
  func addLabelKeywords(plan: [PlannedFolder], store: CheckpointStore) throws -> LabelKeywordResult {
    let labelFolders = Set(plan.filter(isUserLabel).map(\.source.name))
    var wanted: [String: [UInt32: Set<String>]] = [:]
    var validity: [String: UInt32?] = [:]
    for copy in try store.copiesForOtherLabels() where labelFolders.contains(copy.labelFolder) {
      wanted[copy.targetFolder, default: [:]][copy.targetUID, default: []].insert(keyword(forLabel: copy.labelFolder))
      validity[copy.targetFolder] = copy.targetUIDValidity
    }
    var result = LabelKeywordResult()
    guard !wanted.isEmpty else { return result }
    let sink = try connectSink()
    defer { sink.close() }
    for (folder, keywords) in wanted.sorted(by: { $0.key < $1.key }) {
      guard let opened = try sink.open(folder, forWriting: true), opened.validity == validity[folder] ?? nil else {
        result.notes.append("labels not added as keywords in \(folder): its UIDs changed since the copies were made")
        continue
      }
      let current = try sink.flags(of: Array(keywords.keys))
      var updates: [(id: UInt32, flags: [String])] = []
      for (id, labels) in keywords {
        guard let have = current[id] else { continue }
        let kept = labels.filter { opened.accepts(keyword: $0) }
        result.refused.formUnion(labels.subtracting(kept))
        let missing = kept.filter { label in !have.contains { $0.caseInsensitiveCompare(label) == .orderedSame } }
        if !missing.isEmpty { updates.append((id, have + missing.sorted())) }
      }
      if !updates.isEmpty { try sink.setFlags(updates) }
      result.updated += updates.count
    }
    return result
  }

}

/// A folder whose name is a user's label: not INBOX, a special folder or All Mail.
func isUserLabel(_ folder: PlannedFolder) -> Bool {
  !folder.onlyUnlabelled && folder.source.specialUse == nil && folder.source.name.uppercased() != "INBOX"
}

/// What adding label keywords did.
public struct LabelKeywordResult: Sendable, Equatable {
  /// Copies that got keywords.
  public var updated = 0
  /// Labels the target folder would not keep as keywords.
  public var refused: Set<String> = []
  public var notes: [String] = []
}
