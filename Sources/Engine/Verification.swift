import Checkpoint
import MailCore
import Mailstore

/// A message as `verify` names it in its report.
public struct ComparedMessage: Sendable, Equatable, CustomStringConvertible {
  /// Its key on its side (IMAP UID, archive UID, Maildir or mbox ordinal, POP3 key).
  public var key: UInt32
  public var messageID: String?
  public var size: UInt64

  public var description: String {
    "key \(key)" + (messageID.map { " \($0)" } ?? "") + ", \(size) bytes"
  }
}

/// One difference of flags or dates between a source message and its copy.
public struct AttributeDifference: Sendable, Equatable {
  public var source: ComparedMessage
  public var targetKey: UInt32
  public var sourceValue: String
  public var targetValue: String
}

/// A source message whose copy in the target (same Message-ID, or same date and size) has
/// other bytes.
public struct AlteredCopy: Sendable, Equatable {
  public var source: ComparedMessage
  public var targetKey: UInt32
  /// Where the bytes first differ, line endings aside.
  public var difference: ByteDifference?
  public var targetSize: UInt64
}

/// How one folder's copy compares with its source.
public struct FolderComparison: Sendable, Equatable {
  public var source: String
  public var target: String
  public var sourceCount = 0
  public var targetCount = 0
  /// Source messages (by content) the target lacks, copy for copy.
  public var missing: [ComparedMessage] = []
  /// Target messages (by content, and by Message-ID for altered ones) the source does not have.
  public var extra: [ComparedMessage] = []
  /// Target copies beyond the number the source holds of the same content.
  public var doubled: [ComparedMessage] = []
  public var altered: [AlteredCopy] = []
  /// Messages of either side whose bytes cannot be read (a damaged archive record), with why.
  public var unreadable: [String] = []
  /// Messages present on both sides whose flags or received dates differ (only where both
  /// sides keep them).
  public var flagDifferences: [AttributeDifference] = []
  public var dateDifferences: [AttributeDifference] = []
  /// `--dedup message-id`: source messages left out because the target held their Message-ID.
  public var skippedByMessageID = 0
  /// Set when the folder could not be compared.
  public var error: ReportedFailure?

  /// Everything in the source is in the target, once, unaltered, with its flags and dates.
  public var matches: Bool {
    missing.isEmpty && doubled.isEmpty && altered.isEmpty && unreadable.isEmpty && flagDifferences.isEmpty
      && dateDifferences.isEmpty && error == nil
  }
}

/// What `verify` compares and how.
public struct VerificationOptions: Sendable {
  public var include: [String] = []
  public var exclude: [String] = []
  /// Source folder → target folder, where the job put it elsewhere than its own name.
  public var folderMap: [String: String] = [:]
  /// The job's dedup mode: with `.messageID`, a source message whose Message-ID the target
  /// folder holds was skipped on purpose.
  public var dedup: MigrationOptions.Dedup = .hash
  /// Skipped views, providers' names, rules, and how a label source (Gmail) was copied.
  public var naming = FolderNaming()
  /// Messages fetched and hashed per request.
  public var batchCount = 50
  public var batchBytes = 16 << 20
  /// Messages larger than this are read through a spool file (hashed as they stream), so
  /// neither side's large messages are held whole; the directory is `--spool-dir`'s.
  public var spoolPolicy = SpoolPolicy(threshold: MigrationOptions().spoolThreshold)

  public init() {}
}

/// `verify`: compares every planned folder of two stores, read through `MessageSource`,
/// by content hash copy for copy, then pairs what is left by Message-ID to tell altered
/// copies from missing ones, and compares flags and dates where both sides keep them.
/// Any pair of readable stores: IMAP, POP3, an archive, Maildir, mbox.
public final class Verification: @unchecked Sendable {
  let connectSource: Migration.ConnectSource
  let connectTarget: Migration.ConnectSource
  let options: VerificationOptions
  /// Folder pairs recorded by the job (its state file), used instead of planning anew.
  let recordedPlan: [(source: String, target: String)]?

  public init(
    source: @escaping Migration.ConnectSource, target: @escaping Migration.ConnectSource,
    options: VerificationOptions, recordedPlan: [(source: String, target: String)]? = nil
  ) {
    connectSource = source
    connectTarget = target
    self.options = options
    self.recordedPlan = recordedPlan
  }

  public func run() throws -> [FolderComparison] {
    let source = try connectSource()
    let target = try connectTarget()
    defer {
      source.close()
      target.close()
    }
    let targetFolders = try target.folders()
    let sourceFolders = try source.folders()
    var naming = options.naming
    if source.keepsLabels { naming.sourceHasLabels = true }
    naming.sourceHasLabels = naming.sourceHasLabels ?? sourceFolders.contains { $0.specialUse?.uppercased() == "\\ALL" }
    let (plan, _) = try FolderPlanner.plan(
      source: sourceFolders, target: targetFolders, targetSeparator: targetFolders.first?.separator ?? "/",
      sourcePrefix: try source.personalPrefix(), targetPrefix: try target.personalPrefix(), include: options.include,
      exclude: options.exclude, folderMap: options.folderMap, naming: naming)
    var pairs = plan.map { (source: $0.source.name, target: $0.targetName, onlyUnlabelled: $0.onlyUnlabelled) }
    if let recordedPlan {
      let recorded = Dictionary(recordedPlan.map { ($0.source, $0.target) }, uniquingKeysWith: { first, _ in first })
      pairs = pairs.map { (source: $0.source, target: recorded[$0.source] ?? $0.target, $0.onlyUnlabelled) }
    }
    let labels = naming.sourceHasLabels == true ? naming.labelMode : nil
    // A copy-once label mode put each message in one of its folders: what another target
    // folder holds is not missing here.
    var copiesByFolder: [String: Set<SHA256Digest>] = [:]
    if labels?.copiesOnce == true {
      for pair in pairs where targetFolders.contains(where: { $0.name == pair.target && $0.selectable }) {
        copiesByFolder[pair.target] = Set(
          try Side(store: target, folder: pair.target, options: options).messages.map(\.sha256))
      }
    }
    let labelKeywords = FlagSet.comparable(
      labels == .keywords ? plan.filter { isUserLabel($0) }.map { keyword(forLabel: $0.source.name) } : [])
    var inLabelFolders: Set<SHA256Digest> = []
    let traits = source.keeps.intersection(target.keeps)
    var results: [FolderComparison] = []
    for pair in pairs {
      var comparison = FolderComparison(source: pair.source, target: pair.target)
      do {
        var sourceSide = try Side(store: source, folder: pair.source, options: options)
        if labels != nil {
          if pair.onlyUnlabelled {
            // All Mail was copied only for the messages no label folder holds (it comes last).
            sourceSide.messages.removeAll { inLabelFolders.contains($0.sha256) }
          } else {
            inLabelFolders.formUnion(sourceSide.messages.map(\.sha256))
          }
          if labels?.copiesOnce == true {
            let here = copiesByFolder[pair.target] ?? []
            sourceSide.messages.removeAll { message in
              !here.contains(message.sha256)
                && copiesByFolder.contains { $0.key != pair.target && $0.value.contains(message.sha256) }
            }
          }
        }
        comparison.sourceCount = sourceSide.messages.count
        comparison.unreadable = sourceSide.unreadable
        guard targetFolders.contains(where: { $0.name == pair.target && $0.selectable }) else {
          comparison.missing = sourceSide.messages.map(\.named)
          if !sourceSide.messages.isEmpty {
            comparison.error = ReportedFailure(
              description: "missing in the target", hint: nil, scope: .folder, isTemporary: false)
          }
          results.append(comparison)
          continue
        }
        var targetSide = try Side(store: target, folder: pair.target, options: options)
        if !labelKeywords.isEmpty {
          // Labels added as keywords (`--gmail-labels keywords`) are not differences.
          for index in targetSide.messages.indices { targetSide.messages[index].flags.subtract(labelKeywords) }
        }
        comparison.targetCount = targetSide.messages.count
        comparison.unreadable += targetSide.unreadable
        try compare(sourceSide, targetSide, traits: traits, into: &comparison, source: source, target: target)
      } catch {
        comparison.error = ReportedFailure(error)
        if ErrorClass.scope(of: error) >= .connection { throw error }
      }
      results.append(comparison)
    }
    return results
  }

  /// A message's fingerprint on one side.
  struct Fingerprint {
    var key: UInt32
    var sha256: SHA256Digest
    var messageID: MessageID?
    var flags: Set<String>
    var date: Int64?
    var size: UInt64

    var named: ComparedMessage { ComparedMessage(key: key, messageID: messageID?.description, size: size) }
  }

  /// One folder of one store, read whole: every message fingerprinted.
  struct Side {
    var messages: [Fingerprint] = []
    var unreadable: [String] = []

    init(store: any MessageSource, folder: String, options: VerificationOptions) throws {
      _ = try store.open(folder, keyMap: SessionKeyMap())
      let listed = try store.metadata(try store.keys(after: 0)).sorted { $0.key < $1.key }
      var batch: [SourceMessage] = []
      var batchBytes: UInt64 = 0
      func flush() throws {
        let (bodies, unreadable) = try store.fetchBodies(
          batch.map(\.key), within: MessageSizeLimits(batch, maxSize: nil), spooling: options.spoolPolicy)
        for message in batch {
          if let reason = unreadable[message.key] {
            self.unreadable.append("\(folder): message \(message.key) cannot be read: \(reason)")
            continue
          }
          guard let body = bodies[message.key] else { continue }
          messages.append(
            Fingerprint(
              key: message.key, sha256: body.contentHash, messageID: MessageID(message: body.headerBytes),
              flags: FlagSet.comparable(message.flags), date: message.receivedDate?.secondsSince1970,
              size: UInt64(body.count)))
        }
        batch = []
        batchBytes = 0
      }
      for message in listed {
        if !batch.isEmpty
          && (batch.count >= options.batchCount || batchBytes + message.size > UInt64(options.batchBytes))
        {
          try flush()
        }
        batch.append(message)
        batchBytes += message.size
      }
      if !batch.isEmpty { try flush() }
    }
  }

  private func compare(
    _ sourceSide: Side, _ targetSide: Side, traits: StoreTraits, into comparison: inout FolderComparison,
    source: any MessageSource, target: any MessageSource
  ) throws {
    var targetByHash = Dictionary(grouping: targetSide.messages, by: \.sha256)
    var unmatchedSource: [Fingerprint] = []
    for message in sourceSide.messages {
      guard var candidates = targetByHash[message.sha256], !candidates.isEmpty else {
        unmatchedSource.append(message)
        continue
      }
      // Prefer a copy with the same flags and date, so one difference counts once.
      let index = candidates.firstIndex { $0.flags == message.flags && $0.date == message.date } ?? 0
      let match = candidates.remove(at: index)
      targetByHash[message.sha256] = candidates
      compareAttributes(message, match, traits: traits, into: &comparison)
    }
    let sourceHashes = Set(sourceSide.messages.map(\.sha256))
    var unmatchedTarget: [Fingerprint] = []
    for (hash, left) in targetByHash where !left.isEmpty {
      if sourceHashes.contains(hash) {
        comparison.doubled += left.map(\.named)
      } else {
        unmatchedTarget += left
      }
    }
    unmatchedTarget.sort { $0.key < $1.key }
    let targetMessageIDs = Set(targetSide.messages.compactMap(\.messageID))
    // What is left on both sides: the same message with other bytes (by Message-ID, else
    // by date and size), or truly missing and extra.
    for message in unmatchedSource {
      let index =
        unmatchedTarget.firstIndex { candidate in
          message.messageID != nil && candidate.messageID == message.messageID
        }
        ?? unmatchedTarget.firstIndex { candidate in
          message.messageID == nil && candidate.messageID == nil && message.date != nil
            && candidate.date == message.date && candidate.size == message.size
        }
      if let index {
        let copy = unmatchedTarget.remove(at: index)
        comparison.altered.append(try altered(message, copy, source: source, target: target))
        compareAttributes(message, copy, traits: traits, into: &comparison)
      } else if options.dedup == .messageID, let id = message.messageID, targetMessageIDs.contains(id) {
        comparison.skippedByMessageID += 1
      } else {
        comparison.missing.append(message.named)
      }
    }
    comparison.extra = unmatchedTarget.map(\.named)
  }

  private func altered(
    _ message: Fingerprint, _ copy: Fingerprint, source: any MessageSource, target: any MessageSource
  ) throws -> AlteredCopy {
    // Read again within the sizes they had the first time: a server may send other bytes
    // now (200 MB for a message of 1 KB), and this read must not hold them. Large ones are
    // spooled and compared a chunk at a time.
    let sent = try source.fetchBodies(
      [message.key], within: MessageSizeLimits(listedSizes: [message.key: max(message.size, 1)], maxSize: nil),
      spooling: options.spoolPolicy
    ).bodies[message.key]
    let stored = try target.fetchBodies(
      [copy.key], within: MessageSizeLimits(listedSizes: [copy.key: max(copy.size, 1)], maxSize: nil),
      spooling: options.spoolPolicy
    ).bodies[copy.key]
    var difference: ByteDifference?
    if let sent, let stored {
      difference = try sent.firstDifference(from: stored)
    }
    return AlteredCopy(source: message.named, targetKey: copy.key, difference: difference, targetSize: copy.size)
  }

  private func compareAttributes(
    _ message: Fingerprint, _ copy: Fingerprint, traits: StoreTraits, into comparison: inout FolderComparison
  ) {
    if traits.contains(.flags) {
      var sourceFlags = message.flags
      var targetFlags = copy.flags
      if !traits.contains(.keywords) {
        sourceFlags = sourceFlags.filter { $0.hasPrefix("\\") }
        targetFlags = targetFlags.filter { $0.hasPrefix("\\") }
      }
      if sourceFlags != targetFlags {
        comparison.flagDifferences.append(
          AttributeDifference(
            source: message.named, targetKey: copy.key, sourceValue: FlagSet.text(sourceFlags),
            targetValue: FlagSet.text(targetFlags)))
      }
    }
    if traits.contains(.receivedDates), let sourceDate = message.date, let targetDate = copy.date,
      sourceDate != targetDate
    {
      comparison.dateDifferences.append(
        AttributeDifference(
          source: message.named, targetKey: copy.key,
          sourceValue: ReceivedDate(secondsSince1970: sourceDate).description,
          targetValue: ReceivedDate(secondsSince1970: targetDate).description))
    }
  }
}
