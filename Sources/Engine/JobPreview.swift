import Checkpoint
import Foundation
import Mailstore

/// What a job would do, before anything moves (`mailferry plan`): the folder mapping with
/// counts and sizes, the renames, merges and skipped views, the special folders it would
/// create, and the messages over the target's size limit.
public struct JobPreview: Sendable {
  public struct Folder: Sendable {
    public var planned: PlannedFolder
    public var messages: Int
    public var bytes: UInt64
    /// Whether the target already has a folder by that name.
    public var targetExists: Bool
    /// Messages larger than the target takes: key and size.
    public var oversized: [(key: UInt32, size: UInt64)]
    /// All Mail of a label source that sends no labels: the run copies only those of these
    /// messages that no label folder holds.
    public var countIsUpperBound = false
  }

  public var folders: [Folder] = []
  public var warnings: [String] = []
  /// The largest message the target takes, and who says so; nil when nothing limits it.
  public var sizeLimit: MigrationOptions.ProviderLimit?
  /// How a label source's messages are copied; nil when the source has plain folders.
  public var labelMode: LabelMode?
}

extension Migration {
  /// Plans the job as `run` would (with the names earlier runs recorded, when the state
  /// file exists) and measures each folder; writes nothing anywhere.
  public func preview() throws -> JobPreview {
    let source = try connectSource()
    let sink = try connectSink()
    defer {
      source.close()
      sink.close()
    }
    var recorded: [FolderState] = []
    if FileManager.default.fileExists(atPath: statePath) {
      recorded = try CheckpointStore(existingAt: statePath).folders()
    }
    let targetFolders = try sink.folders()
    let (plan, warnings, labelled) = try makePlan(
      source: source, targetFolders: targetFolders, sink: sink, recorded: recorded)
    var preview = JobPreview(warnings: warnings)
    preview.labelMode = labelled ? options.naming.labelMode : nil
    let announced = sink.sizeLimit.map {
      MigrationOptions.ProviderLimit(value: $0, origin: "the server's limit")
    }
    preview.sizeLimit = [announced, options.targetSizeLimit].compactMap { $0 }.min { $0.value < $1.value }
    for folder in plan {
      _ = try source.open(folder.source.name, keyMap: SessionKeyMap())
      var messages = try source.metadata(try source.keys(after: 0))
      var atMost = false
      if folder.onlyUnlabelled {
        // Where the source sends labels, the messages in none are known now; else the run
        // finds them by content, and all of them are an upper bound.
        atMost = messages.contains { $0.labels == nil }
        messages = messages.filter { !($0.labels.map(isInSomeLabel) ?? false) }
      }
      let oversized = preview.sizeLimit.map { limit in
        messages.filter { $0.size > limit.value }.map { (key: $0.key, size: $0.size) }
      }
      preview.folders.append(
        JobPreview.Folder(
          planned: folder, messages: messages.count, bytes: messages.reduce(0) { $0 + $1.size },
          targetExists: targetFolders.contains { $0.name.uppercased() == folder.targetName.uppercased() },
          oversized: oversized ?? [], countIsUpperBound: atMost))
    }
    return preview
  }
}
