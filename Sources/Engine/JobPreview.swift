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
  }

  public var folders: [Folder] = []
  public var warnings: [String] = []
  /// The largest message the target takes, and who says so; nil when nothing limits it.
  public var sizeLimit: MigrationOptions.ProviderLimit?
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
    var recorded: [String: String] = [:]
    if FileManager.default.fileExists(atPath: statePath) {
      let store = try CheckpointStore(existingAt: statePath)
      recorded = Dictionary(
        try store.folders().map { ($0.sourceName, $0.targetName) }, uniquingKeysWith: { first, _ in first })
    }
    let targetFolders = try sink.folders()
    let (plan, warnings) = try FolderPlanner.plan(
      source: try source.folders(), target: targetFolders, targetSeparator: try sink.separator() ?? "/",
      sourcePrefix: try source.personalPrefix(), targetPrefix: try sink.personalPrefix(), include: options.include,
      exclude: options.exclude, folderMap: options.folderMap, naming: options.naming, recorded: recorded)
    var preview = JobPreview(warnings: warnings)
    let announced = sink.sizeLimit.map {
      MigrationOptions.ProviderLimit(value: $0, origin: "the server's limit")
    }
    preview.sizeLimit = [announced, options.targetSizeLimit].compactMap { $0 }.min { $0.value < $1.value }
    for folder in plan {
      _ = try source.open(folder.source.name, keyMap: SessionKeyMap())
      let messages = try source.metadata(try source.keys(after: 0))
      let oversized = preview.sizeLimit.map { limit in
        messages.filter { $0.size > limit.value }.map { (key: $0.key, size: $0.size) }
      }
      preview.folders.append(
        JobPreview.Folder(
          planned: folder, messages: messages.count, bytes: messages.reduce(0) { $0 + $1.size },
          targetExists: targetFolders.contains { $0.name.uppercased() == folder.targetName.uppercased() },
          oversized: oversized ?? []))
    }
    return preview
  }
}
