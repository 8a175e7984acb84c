import Foundation
import Mailstore

extension FolderCopier {
  /// Opens (creating where missing) the planned target folder. A name the target refuses
  /// is repaired by `FolderNameRepair` and tried again, and the name that worked is the
  /// report's target, recorded in the checkpoint by the caller so later runs reuse it.
  func openTarget() throws -> SinkFolderState? {
    let separator = try sink.separator()
    var refusals: [FolderNameRefused] = []
    for name in [plan.targetName] + FolderNameRepair.candidates(for: plan.targetName, separator: separator) {
      do {
        if let specialUse = plan.source.specialUse { try sink.noteSpecialUse(specialUse, of: name) }
        let opened = try sink.open(name, forWriting: !options.dryRun, specialUse: plan.createAs)
        if let first = refusals.first {
          report.target = name
          report.renamedFrom = plan.targetName
          report.notes.append("stored as '\(name)': \(first.description)")
        }
        return opened
      } catch let refusal as FolderNameRefused {
        refusals.append(refusal)
      }
    }
    throw refusals.last!
  }
}

/// The documented rule for a folder name a target refuses (docs/architecture.md, "Folder
/// names"): first each character servers commonly forbid or reserve (`. ~ % * \ " # & ?
/// : ; | < > ^ [ ] { }`) and control characters become `_`, and a level's leading and
/// trailing spaces go; if that is refused too, every character but ASCII letters, digits,
/// space, `-` and `_` becomes `_`. The separator keeps the levels.
public enum FolderNameRepair {
  static let reserved: Set<Character> = [
    ".", "~", "%", "*", "\\", "\"", "#", "&", "?", ":", ";", "|", "<", ">",
    "^", "[", "]", "{", "}",
  ]

  /// The names to try after `name` was refused, in order, without repeats.
  public static func candidates(for name: String, separator: Character?) -> [String] {
    let first = rewrite(name, separator: separator) { reserved.contains($0) || $0.isASCII && $0.asciiValue! < 32 }
    let second = rewrite(name, separator: separator) {
      !($0.isASCII && ($0.isLetter || $0.isNumber || " -_".contains($0)))
    }
    var result: [String] = []
    for candidate in [first, second] where candidate != name && !result.contains(candidate) {
      result.append(candidate)
    }
    return result
  }

  static func rewrite(_ name: String, separator: Character?, replacing forbidden: (Character) -> Bool) -> String {
    let levels =
      separator.map { name.split(separator: $0, omittingEmptySubsequences: false).map(String.init) } ?? [name]
    return levels.enumerated().map { index, level in
      // INBOX as the first level is the server's own; it stays.
      if index == 0 && level.uppercased() == "INBOX" && levels.count > 1 { return level }
      let cleaned = String(level.map { forbidden($0) ? "_" : $0 }).trimmingCharacters(in: .whitespaces)
      return cleaned.isEmpty ? "_" : cleaned
    }.joined(separator: separator.map(String.init) ?? "")
  }
}
