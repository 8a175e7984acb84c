import Endpoints
import Foundation
import IMAPCodec
import MailCore

/// How one folder's copy compares with its source.
public struct FolderComparison: Sendable, Equatable {
  public var source: String
  public var target: String
  public var sourceCount = 0
  public var targetCount = 0
  /// Source messages (by content) the target lacks, copy for copy.
  public var missing = 0
  /// Target messages (by content) the source does not have.
  public var extra = 0
  /// Messages present on both sides whose flags or INTERNALDATE differ.
  public var flagDifferences = 0
  public var dateDifferences = 0
  /// Set when the folder could not be compared (e.g. missing in the target).
  public var error: String?

  public var matches: Bool { missing == 0 && error == nil }
}

/// `verify`: compares every planned folder of two accounts by content hash, flags and
/// INTERNALDATE.
public final class Verification: @unchecked Sendable {
  public typealias Connect = @Sendable () throws -> IMAPClient
  let connectSource: Connect
  let connectTarget: Connect
  let options: MigrationOptions

  public init(source: @escaping Connect, target: @escaping Connect, options: MigrationOptions) {
    connectSource = source
    connectTarget = target
    self.options = options
  }

  public func run() throws -> [FolderComparison] {
    let source = try connectSource()
    let target = try connectTarget()
    defer {
      source.logout()
      target.logout()
    }
    let targetFolders = try target.listFolders()
    let (plan, _) = try FolderPlanner.plan(
      source: try source.listFolders().map(FolderDescriptor.init), target: targetFolders.map(FolderDescriptor.init),
      targetSeparator: targetFolders.first?.separator ?? "/", sourcePrefix: try source.personalPrefix(),
      targetPrefix: try target.personalPrefix(), include: options.include, exclude: options.exclude,
      folderMap: options.folderMap)
    var results: [FolderComparison] = []
    for folder in plan {
      var comparison = FolderComparison(source: folder.source.name, target: folder.targetName)
      let sourceMessages = try inventory(source, source.mailboxName(folder.source.name))
      comparison.sourceCount = sourceMessages.count
      let targetName = target.mailboxName(folder.targetName)
      guard targetFolders.contains(where: { $0.name == targetName }) else {
        comparison.missing = sourceMessages.count
        comparison.error = sourceMessages.isEmpty ? nil : "missing in the target"
        results.append(comparison)
        continue
      }
      let targetMessages = try inventory(target, targetName)
      comparison.targetCount = targetMessages.count
      var targetByHash = Dictionary(grouping: targetMessages, by: \.hash)
      for message in sourceMessages {
        guard var candidates = targetByHash[message.hash], !candidates.isEmpty else {
          comparison.missing += 1
          continue
        }
        // Prefer a copy with the same flags and date, so one difference counts once.
        let index = candidates.firstIndex { $0.flags == message.flags && $0.date == message.date } ?? 0
        let match = candidates.remove(at: index)
        targetByHash[message.hash] = candidates
        if match.flags != message.flags { comparison.flagDifferences += 1 }
        if match.date != message.date { comparison.dateDifferences += 1 }
      }
      comparison.extra = targetByHash.values.reduce(0) { $0 + $1.count }
      results.append(comparison)
    }
    return results
  }

  private struct Fingerprint {
    var hash: SHA256Digest
    var flags: [String]
    var date: Int64?
  }

  private func inventory(_ client: IMAPClient, _ mailbox: MailboxName) throws -> [Fingerprint] {
    let selected = try client.select(mailbox, readOnly: true)
    guard selected.exists > 0 else { return [] }
    let uids = try client.uidSearch(.all)
    guard !uids.isEmpty else { return [] }
    let metadata = Dictionary(
      try client.fetchMetadata(.uids(uids)).map { ($0.uid, $0) }, uniquingKeysWith: { first, _ in first })
    final class Hashing {
      var hasher: ContentHasher?
      var digest: SHA256Digest?
    }
    let hashing = Hashing()
    var result: [Fingerprint] = []
    try client.fetchBodies(
      uids,
      consumer: BodyConsumer(
        begin: { _ in hashing.hasher = ContentHasher() }, bytes: { hashing.hasher!.update($0) },
        end: { hashing.digest = hashing.hasher.take()!.finalize() }),
      onComplete: { uid in
        guard let digest = hashing.digest else { return }
        let info = metadata[uid]
        let flags = (info?.flags ?? []).filter { $0.uppercased() != "\\RECENT" }.map { $0.lowercased() }.sorted()
        result.append(Fingerprint(hash: digest, flags: flags, date: info?.internalDate?.secondsSince1970))
        hashing.digest = nil
      })
    return result
  }
}
