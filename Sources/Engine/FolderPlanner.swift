import Foundation
import Mailstore

/// Which source folder goes where in the target.
public struct PlannedFolder: Sendable, Equatable {
  public var source: FolderDescriptor
  public var targetName: String
  /// Why it goes there: "special use \Sent", "--folder-map", or nil for the same path.
  public var reason: String?
}

/// Maps source folders to target names: explicit `--folder-map` first, then special use
/// (by the target's SPECIAL-USE attributes, or well-known names when the target reports
/// none; a source that reports no attributes has its special folders recognised by their
/// well-known names), else the same path with the separator translated and the personal
/// namespace prefix swapped (`INBOX.Projects` on a server whose folders live under
/// `INBOX.` becomes `Projects` on one whose folders live at the top). Two source folders
/// are never merged into one target folder unless `--folder-map` says so.
public enum FolderPlanner {
  /// Well-known names per special use, tried in order when the target reports no attributes.
  static let wellKnownNames: [String: [String]] = [
    "\\Sent": ["Sent", "Sent Items", "Sent Messages", "Sent Mail"],
    "\\Drafts": ["Drafts", "Draft"],
    "\\Trash": ["Trash", "Deleted Items", "Deleted Messages", "Bin"],
    "\\Junk": ["Junk", "Junk Email", "Junk E-mail", "Spam"],
    "\\Archive": ["Archive", "Archives"],
  ]

  public static func plan(
    source: [FolderDescriptor], target: [FolderDescriptor], targetSeparator: Character?,
    sourcePrefix: String = "", targetPrefix: String = "",
    include: [String] = [], exclude: [String] = [], folderMap: [String: String] = [:]
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
    var planned: [PlannedFolder] = []
    var warnings: [String] = []
    var used: [String: String] = [:]  // target name → source name
    for folder in source where folder.selectable {
      if !includes.isEmpty && !includes.contains(where: { matches($0, folder.name) }) { continue }
      if excludes.contains(where: { matches($0, folder.name) }) { continue }
      var targetName = translated(folder)
      var reason: String?
      let use = sourceHasAttributes ? folder.specialUse : wellKnownUse(of: folder, prefix: sourcePrefix)
      if let mapped = folderMap[folder.name] {
        targetName = mapped
        reason = "--folder-map"
      } else if let use,
        let existing = specialUseTarget(
          use, in: target, byAttribute: targetHasAttributes, prefix: targetPrefix)
      {
        targetName = existing
        reason = "special use \(use)" + (sourceHasAttributes ? "" : ", known by its name")
      }
      if let other = used[targetName.uppercased()], reason != "--folder-map" {
        warnings.append("\(folder.name) and \(other) would both go to \(targetName); \(folder.name) keeps its own name")
        targetName = translated(folder)
        reason = nil
        if used[targetName.uppercased()] != nil {
          targetName += " (\(folder.name.hashValue & 0xFFFF))"
        }
      }
      used[targetName.uppercased()] = folder.name
      planned.append(PlannedFolder(source: folder, targetName: targetName, reason: reason))
    }
    return (planned, warnings)
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
  static func wellKnownUse(of folder: FolderDescriptor, prefix: String) -> String? {
    let parts = relativeComponents(folder, prefix: prefix)
    guard parts.count == 1, let name = parts.first?.uppercased() else { return nil }
    return wellKnownNames.sorted { $0.key < $1.key }.first { $0.value.contains { $0.uppercased() == name } }?.key
  }

  static func specialUseTarget(
    _ use: String, in target: [FolderDescriptor], byAttribute: Bool, prefix: String
  )
    -> String?
  {
    if byAttribute {
      return target.first { $0.specialUse?.uppercased() == use.uppercased() && $0.selectable }?.name
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
