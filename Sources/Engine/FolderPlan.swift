import Endpoints
import Foundation

/// Which source folder goes where in the target.
public struct PlannedFolder: Sendable, Equatable {
  public var source: FolderDescriptor
  public var targetName: String
  /// Why it goes there: "special use \Sent", "--folder-map", or nil for the same path.
  public var reason: String?
}

/// Maps source folders to target names: explicit `--folder-map` first, then special use
/// (by the target's SPECIAL-USE attributes, or well-known names when the target reports
/// none), else the same path with the separator translated. Two source folders are never
/// merged into one target folder unless `--folder-map` says so.
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
    include: [String] = [], exclude: [String] = [], folderMap: [String: String] = [:]
  ) throws -> (folders: [PlannedFolder], warnings: [String]) {
    let includes = try include.map { try NSRegularExpression(pattern: $0) }
    let excludes = try exclude.map { try NSRegularExpression(pattern: $0) }
    func matches(_ expression: NSRegularExpression, _ name: String) -> Bool {
      expression.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
    }
    let targetHasAttributes = target.contains { $0.specialUse != nil }
    var planned: [PlannedFolder] = []
    var warnings: [String] = []
    var used: [String: String] = [:]  // target name → source name
    for folder in source where folder.selectable {
      if !includes.isEmpty && !includes.contains(where: { matches($0, folder.name) }) { continue }
      if excludes.contains(where: { matches($0, folder.name) }) { continue }
      var targetName = translate(folder, to: targetSeparator)
      var reason: String?
      if let mapped = folderMap[folder.name] {
        targetName = mapped
        reason = "--folder-map"
      } else if let use = folder.specialUse,
        let existing = specialUseTarget(use, in: target, byAttribute: targetHasAttributes)
      {
        targetName = existing
        reason = "special use \(use)"
      }
      if let other = used[targetName.uppercased()], reason != "--folder-map" {
        warnings.append("\(folder.name) and \(other) would both go to \(targetName); \(folder.name) keeps its own name")
        targetName = translate(folder, to: targetSeparator)
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

  /// The same path in the target's hierarchy. A separator character inside a name part
  /// becomes `_`, so it cannot create levels that were not there.
  static func translate(_ folder: FolderDescriptor, to separator: Character?) -> String {
    if folder.name.uppercased() == "INBOX" { return "INBOX" }
    guard let separator else { return folder.name }
    return folder.components.map { $0.replacingOccurrences(of: String(separator), with: "_") }
      .joined(separator: String(separator))
  }

  static func specialUseTarget(_ use: String, in target: [FolderDescriptor], byAttribute: Bool) -> String? {
    if byAttribute {
      return target.first { $0.specialUse?.uppercased() == use.uppercased() && $0.selectable }?.name
    }
    let names = wellKnownNames[use] ?? []
    return names.lazy.compactMap { name in target.first { $0.name.uppercased() == name.uppercased() }?.name }.first
  }
}
