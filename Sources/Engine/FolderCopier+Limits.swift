import Checkpoint
import MailCore
import Mailstore

extension FolderCopier {
  /// The largest message the target takes: the smaller of what it announces (APPENDLIMIT,
  /// SIZE) and what its provider profile says.
  var targetSizeLimit: MigrationOptions.ProviderLimit? {
    let announced = sink.sizeLimit.map {
      MigrationOptions.ProviderLimit(value: $0, origin: "the server's limit")
    }
    return [announced, options.targetSizeLimit].compactMap { $0 }.min { $0.value < $1.value }
  }

  /// Fails the messages larger than the target takes, before a byte of them is fetched,
  /// and returns the others. Each failure is recorded, so the next run reports it again
  /// (and copies it, if the limit was raised).
  func refuseOversized(
    _ messages: [SourceMessage], state: FolderState, validity: UInt32, progress: inout Progress
  ) throws -> [SourceMessage] {
    guard let limit = targetSizeLimit else { return messages }
    var fitting: [SourceMessage] = []
    for message in messages {
      guard message.size > limit.value else {
        fitting.append(message)
        continue
      }
      let reason =
        "\(ByteCountText.human(message.size)) exceeds \(limit.origin) of \(ByteCountText.human(limit.value))"
      report.failed.append(MessageFailure(key: message.key, kind: .tooLarge, reason: reason, isTemporary: false))
      events(.refused(source: plan.source.name, uid: message.key, reason: reason))
      if !options.dryRun {
        try store.recordFailure(
          folder: state.id, run: run, sourceUIDValidity: validity, sourceUID: message.key, reason: reason)
      }
      progress.finished.insert(message.key)
    }
    return fitting
  }
}
