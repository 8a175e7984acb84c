import Foundation
import Mailstore

/// Which source folder goes where in the target.
public struct PlannedFolder: Sendable, Equatable {
  public var source: FolderDescriptor
  public var targetName: String
  /// Why it goes there: "special use \Sent", "--folder-map", or nil for the same path.
  public var reason: String?
  /// The special use to create the target folder with when it is missing (the target had
  /// no folder for it): `\Sent`, `\Drafts`, `\Trash`, `\Junk` or `\Archive`.
  public var createAs: String?
  /// Copy only the messages no other folder of the job holds: a Gmail-style `\All`
  /// folder, read for the messages in no label.
  public var onlyUnlabelled = false

  public init(
    source: FolderDescriptor, targetName: String, reason: String? = nil, createAs: String? = nil,
    onlyUnlabelled: Bool = false
  ) {
    self.source = source
    self.targetName = targetName
    self.reason = reason
    self.createAs = createAs
    self.onlyUnlabelled = onlyUnlabelled
  }
}

/// Maps source folders to target names. In order: a folder the naming skips is left out;
/// an explicit `--folder-map OLD=NEW` wins; then the name earlier runs of the job used (so
/// a collision name or a rename made after a refusal stays the same over reruns and
/// resumes); then special use (by the target's SPECIAL-USE attributes, or well-known and
/// provider names when the target reports none; a special folder the target lacks is
/// created with its provider's name and marked with the use); else the same path with the
/// separator translated and the personal namespace prefix swapped (`INBOX.Projects` on a
/// server whose folders live under `INBOX.` becomes `Projects` on one whose folders live at
/// the top), rewritten by the `s/REGEX/NEW/` rules. Two source folders are never merged
/// into one target folder unless `--folder-map` says so: the second keeps its own name, or
/// gets a suffix derived from its source name when that is taken too.
public enum FolderPlanner {
  /// Well-known names per special use, tried in order when the target reports no attributes.
  static let wellKnownNames: [String: [String]] = [
    "\\Sent": ["Sent", "Sent Items", "Sent Messages", "Sent Mail"],
    "\\Drafts": ["Drafts", "Draft"],
    "\\Trash": ["Trash", "Deleted Items", "Deleted Messages", "Bin"],
    "\\Junk": ["Junk", "Junk Email", "Junk E-mail", "Spam"],
    "\\Archive": ["Archive", "Archives"],
  ]

  /// Special uses a missing target folder is created with.
  static let creatableUses: Set<String> = ["\\SENT", "\\DRAFTS", "\\TRASH", "\\JUNK", "\\ARCHIVE"]

  public static func plan(
    source: [FolderDescriptor], target: [FolderDescriptor], targetSeparator: Character?,
    sourcePrefix: String = "", targetPrefix: String = "",
    include: [String] = [], exclude: [String] = [], folderMap: [String: String] = [:],
    naming: FolderNaming = FolderNaming(), recorded: [String: String] = [:]
  ) throws -> (folders: [PlannedFolder], warnings: [String]) {
    let includes = try include.map { try NSRegularExpression(pattern: $0) }
    let excludes = try exclude.map { try NSRegularExpression(pattern: $0) }
    func matches(_ expression: NSRegularExpression, _ name: String) -> Bool {
      expression.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }
    let targetHasAttributes = target.contains { $0.specialUse != nil }
    let sourceHasAttributes = source.contains { $0.specialUse != nil }
    func translated(_ folder: FolderDescriptor) -> String {
      translate(folder, to: targetSeparator, sourcePrefix: sourcePrefix, targetPrefix: targetPrefix)
    }
    let skipped = Set(naming.skip.map { $0.uppercased() })
    let labelled = naming.sourceHasLabels ?? source.contains { $0.specialUse?.uppercased() == "\\ALL" }
    var planned: [PlannedFolder] = []
    var warnings: [String] = []
    var used: [String: String] = [:]  // target name → source name
    for folder in source where folder.selectable {
      if !includes.isEmpty && !includes.contains(where: { matches($0, folder.name) }) { continue }
      if excludes.contains(where: { matches($0, folder.name) }) { continue }
      if skipped.contains(folder.name.uppercased()) {
        warnings.append("\(folder.name) is not copied as a folder: \(naming.skipReason)")
        continue
      }
      let use =
        sourceHasAttributes
        ? folder.specialUse : wellKnownUse(of: folder, prefix: sourcePrefix, extraNames: naming.sourceNames)
      if labelled, let use, let view = labelViews[use.uppercased()] {
        warnings.append("\(folder.name) is not copied as a folder: \(view)")
        continue
      }
      var entry = PlannedFolder(source: folder, targetName: translated(folder))
      let rewritten = naming.rules.reduce(entry.targetName) { $1.apply(to: $0) }
      if let mapped = folderMap[folder.name] {
        entry.targetName = mapped
        entry.reason = "--folder-map"
      } else if rewritten != entry.targetName {
        let applied = naming.rules.filter { $0.matches(entry.targetName) }.map(\.text)
        entry.reason = "--folder-map " + applied.joined(separator: ", ")
        entry.targetName = rewritten
      } else if labelled, use?.uppercased() == "\\ALL" {
        // Read only for the messages in no label; they go where archived mail goes.
        entry.onlyUnlabelled = true
        entry.reason = "messages in no label only"
        if let existing = specialUseTarget(
          "\\Archive", in: target, byAttribute: targetHasAttributes, prefix: targetPrefix,
          extraNames: naming.targetNames)
        {
          entry.targetName = existing
        } else {
          entry.targetName =
            targetPrefix
            + (naming.targetNames.first { $0.key.uppercased() == "\\ARCHIVE" }?.value.first ?? "Archive")
          entry.createAs = "\\Archive"
        }
      } else if let use,
        let existing = specialUseTarget(
          use, in: target, byAttribute: targetHasAttributes, prefix: targetPrefix, extraNames: naming.targetNames)
      {
        entry.targetName = existing
        entry.reason = "special use \(use)" + (sourceHasAttributes ? "" : ", known by its name")
      } else if let use, creatableUses.contains(use.uppercased()) {
        if let name = naming.targetNames.first(where: { $0.key.uppercased() == use.uppercased() })?.value.first {
          entry.targetName = targetPrefix + name
        }
        entry.createAs = use
        entry.reason = "special use \(use), created as such"
      }
      if let earlier = recorded[folder.name], earlier != entry.targetName,
        !(entry.reason ?? "").hasPrefix("--folder-map")
      {
        entry.targetName = earlier
        entry.reason = "as in earlier runs"
        entry.createAs = nil
      }
      if let other = used[entry.targetName.uppercased()], !(entry.reason ?? "").hasPrefix("--folder-map") {
        let wanted = entry.targetName
        entry.targetName = translated(folder)
        entry.reason = nil
        entry.createAs = nil
        if used[entry.targetName.uppercased()] != nil {
          entry.targetName += " (\(stableSuffix(folder.name)))"
          entry.reason = "name taken by \(other)"
        }
        warnings.append(
          "\(folder.name) and \(other) would both go to \(wanted); \(folder.name) goes to \(entry.targetName)")
      }
      used[entry.targetName.uppercased()] = folder.name
      planned.append(entry)
    }
    return (labelled ? labelOrder(planned) : planned, warnings)
  }

  /// Views of a label source that are not places: not copied as folders.
  static let labelViews: [String: String] = [
    "\\FLAGGED": "it shows the starred messages, whose \\Flagged flag carries the star",
    "\\IMPORTANT": "it shows the messages marked important, which are copied from their label folders",
  ]

  /// A label source's folders in the order a message's first label is chosen by: INBOX,
  /// the special folders, the others, and All Mail last (it is read only for what no
  /// label folder holds).
  static func labelOrder(_ folders: [PlannedFolder]) -> [PlannedFolder] {
    func rank(_ folder: PlannedFolder) -> Int {
      if folder.onlyUnlabelled { return 3 }
      if folder.source.name.uppercased() == "INBOX" { return 0 }
      return folder.source.specialUse != nil || folder.createAs != nil ? 1 : 2
    }
    return folders.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
  }

  /// Four hex digits from the source name (FNV-1a), the same in every process, so a
  /// collision name never changes between runs.
  static func stableSuffix(_ name: String) -> String {
    var hash: UInt32 = 2_166_136_261
    for byte in name.utf8 {
      hash ^= UInt32(byte)
      hash &*= 16_777_619
    }
    return String(format: "%04x", (hash >> 16) ^ (hash & 0xFFFF))
  }

  /// The same path in the target's hierarchy: the source's personal namespace prefix
  /// taken off, the target's put on. A separator character inside a name part becomes `_`,
  /// so it cannot create levels that were not there.
  static func translate(
    _ folder: FolderDescriptor, to separator: Character?, sourcePrefix: String = "", targetPrefix: String = ""
  ) -> String {
    if folder.name.uppercased() == "INBOX" { return "INBOX" }
    let parts = relativeComponents(folder, prefix: sourcePrefix)
    guard let separator else { return targetPrefix + parts.joined() }
    return targetPrefix
      + parts.map { $0.replacingOccurrences(of: String(separator), with: "_") }.joined(separator: String(separator))
  }

  /// The levels of a folder's name below the personal namespace prefix (`INBOX.` on
  /// Courier-style servers); a folder outside the prefix keeps all its levels.
  static func relativeComponents(_ folder: FolderDescriptor, prefix: String) -> [String] {
    let components = folder.components
    guard !prefix.isEmpty, let separator = folder.separator else { return components }
    let prefixParts = prefix.split(separator: separator, omittingEmptySubsequences: true).map(String.init)
    guard !prefixParts.isEmpty, components.count > prefixParts.count,
      zip(components, prefixParts).allSatisfy({ $0.uppercased() == $1.uppercased() })
    else { return components }
    return Array(components.dropFirst(prefixParts.count))
  }

  /// The special use a top-level folder's well-known name stands for, for sources that
  /// report no SPECIAL-USE attributes.
  static func wellKnownUse(
    of folder: FolderDescriptor, prefix: String, extraNames: [String: [String]] = [:]
  ) -> String? {
    // A provider's own names are whole paths (`[Gmail]/Sent Mail`); the well-known ones
    // are top-level names.
    if let use = extraNames.sorted(by: { $0.key < $1.key }).first(where: { entry in
      entry.value.contains { $0.uppercased() == folder.name.uppercased() }
    })?.key {
      return use
    }
    let parts = relativeComponents(folder, prefix: prefix)
    guard parts.count == 1, let name = parts.first?.uppercased() else { return nil }
    return wellKnownNames.sorted { $0.key < $1.key }.first { $0.value.contains { $0.uppercased() == name } }?.key
  }

  static func specialUseTarget(
    _ use: String, in target: [FolderDescriptor], byAttribute: Bool, prefix: String,
    extraNames: [String: [String]] = [:]
  )
    -> String?
  {
    if byAttribute {
      return target.first { $0.specialUse?.uppercased() == use.uppercased() && $0.selectable }?.name
    }
    let provider = extraNames.first { $0.key.uppercased() == use.uppercased() }?.value ?? []
    if let found = provider.lazy.compactMap({ name in
      target.first { $0.name.uppercased() == name.uppercased() && $0.selectable }?.name
    }).first {
      return found
    }
    let names = wellKnownNames[use] ?? []
    return names.lazy.compactMap { name in
      target.first { folder in
        let parts = relativeComponents(folder, prefix: prefix)
        return parts.count == 1 && parts[0].uppercased() == name.uppercased() && folder.selectable
      }?.name
    }.first
  }
}
