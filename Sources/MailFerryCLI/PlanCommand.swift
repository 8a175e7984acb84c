import Engine
import Foundation
import MailCore

/// `mailferry plan SOURCE TARGET`: what `migrate` with the same options would do, before
/// anything moves.
struct PlanCommand: Subcommand {
  static let spec = CommandSpec(
    name: "plan", summary: "Show the folder mapping, counts, sizes, renames and oversized messages of a job.",
    discussion: """
      Logs in to both sides, plans the folders exactly as 'migrate' with the same options
      would (provider profiles, --folder-map rules, the names earlier runs of the job
      recorded in its state file), counts each source folder and writes nothing. It shows
      where each folder goes and why, the special folders the run would create, folders
      that are not copied as folders (Gmail's Starred and Important), two folders that
      would share a name, and the messages larger than the target takes (APPENDLIMIT,
      SMTP SIZE or the target's profile). A folder the target refuses by name is renamed
      when the run meets the refusal; later plans show that name.

      Examples:
        mailferry plan gmail:alice@gmail.com imaps://alice@imap.example.org
        mailferry plan imaps://bob@old.example imaps://bob@new.example --folder-map 's/^INBOX\\.//' --json
      """,
    positionals: MigrateCommand.spec.positionals,
    options: MigrateCommand.spec.options.filter {
      ![
        "dry-run", "delete-source", "keep-days", "sync-flags", "verify", "no-verify", "quiet", "batch", "connections",
        "compression", "max-wait", "max-rate", "log", "report", "spool-dir",
      ].contains($0.name)
    })

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    var sides = try JobSides(arguments, command: Self.spec.name, console: console)
    var options = try MigrateCommand.options(arguments, sourceFolder: sides.source.folder, command: Self.spec.name)
    ProfileDefaults.apply(
      source: sides.sourceProfile, target: sides.targetProfile, to: &options,
      connectionsGiven: arguments.value("connections") != nil, console: console)
    let statePath =
      try arguments.value("state")
      ?? MigrateCommand.defaultStatePath(source: sides.source, target: sides.target)
    let json = arguments.flag("json")
    try arguments.checkAllApply(to: sides.description)
    try sides.connect()
    let migration = Migration(
      source: sides.connectSource, sink: sides.connectTarget!, sourceIdentity: sides.source.identity,
      targetIdentity: sides.target.identity, statePath: statePath, options: options)
    let preview = try migration.preview()
    if json {
      console.print(JSONLines.line(Self.json(preview)))
    } else {
      Self.print(preview, console: console)
    }
    return .success
  }

  static func print(_ preview: JobPreview, console: Console) {
    console.print(
      "MESSAGES".leftPadded(8) + "  " + "SIZE".leftPadded(10) + "  FOLDER → TARGET (why)")
    for folder in preview.folders {
      let planned = folder.planned
      var why: [String] = []
      if let reason = planned.reason { why.append(reason) }
      if !folder.targetExists { why.append(planned.createAs.map { "to be created as \($0)" } ?? "to be created") }
      if !folder.oversized.isEmpty { why.append("\(folder.oversized.count) too large") }
      console.print(
        ((folder.countIsUpperBound ? "≤" : "") + String(folder.messages)).leftPadded(8) + "  "
          + ByteCountText.human(folder.bytes).leftPadded(10) + "  " + planned.source.name + " → " + planned.targetName
          + (why.isEmpty ? "" : " (" + why.joined(separator: "; ") + ")"))
    }
    let messages = preview.folders.reduce(0) { $0 + $1.messages }
    let bytes = preview.folders.reduce(UInt64(0)) { $0 + $1.bytes }
    console.print(
      String(messages).leftPadded(8) + "  " + ByteCountText.human(bytes).leftPadded(10) + "  total in "
        + "\(preview.folders.count) folder(s)")
    if let mode = preview.labelMode {
      console.status(
        "labels: the source's folders are labels; --gmail-labels \(mode.rawValue): "
          + {
            switch mode {
            case .folders: return "a copy in each label's folder"
            case .first: return "one copy, in the first label folder copied"
            case .keywords: return "one copy, its other labels as keywords"
            }
          }())
    }
    for warning in preview.warnings { console.warning(warning) }
    if let limit = preview.sizeLimit {
      let oversized = preview.folders.flatMap { folder in folder.oversized.map { (folder.planned.source.name, $0) } }
      if !oversized.isEmpty {
        console.warning(
          "\(oversized.count) message(s) exceed \(limit.origin) of \(ByteCountText.human(limit.value)) and will "
            + "not be copied:")
        for (folder, message) in oversized.prefix(50) {
          console.status("  \(folder) UID \(message.key): \(ByteCountText.human(message.size))")
        }
        if oversized.count > 50 { console.status("  … and \(oversized.count - 50) more") }
      }
    }
  }

  static func json(_ preview: JobPreview) -> [String: Any] {
    var object: [String: Any] = [
      "event": "plan", "warnings": preview.warnings,
      "folders": preview.folders.map { folder -> [String: Any] in
        [
          "source": folder.planned.source.name, "target": folder.planned.targetName,
          "reason": folder.planned.reason ?? "", "create_as": folder.planned.createAs ?? "",
          "target_exists": folder.targetExists, "messages": folder.messages, "bytes": folder.bytes,
          "messages_at_most": folder.countIsUpperBound, "only_unlabelled": folder.planned.onlyUnlabelled,
          "oversized": folder.oversized.map { ["key": $0.key, "size": $0.size] },
        ]
      },
    ]
    if let limit = preview.sizeLimit { object["size_limit"] = ["bytes": limit.value, "origin": limit.origin] }
    if let mode = preview.labelMode { object["gmail_labels"] = mode.rawValue }
    return object
  }
}
