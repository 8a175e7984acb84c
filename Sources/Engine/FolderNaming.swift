import Foundation
import MailCore

/// What besides the two folder lists decides target names: folders not copied as folders,
/// providers' own special-use names, and rename rules.
public struct FolderNaming: Sendable, Equatable {
  /// Source folders that are views, not places (Gmail's Starred and Important), by name.
  public var skip: [String] = []
  /// Why `skip` folders are left out, for the plan's warning.
  public var skipReason = "its provider shows it as a view of messages kept elsewhere"
  /// Special use → the source provider's names, to recognise them without attributes.
  public var sourceNames: [String: [String]] = [:]
  /// Special use → the target provider's names: found there without attributes, and used
  /// to create a special folder the target lacks.
  public var targetNames: [String: [String]] = [:]
  /// `s/REGEX/NEW/` rules, applied in order to each translated target name.
  public var rules: [FolderRule] = []
  /// Whether the source's folders are labels (Gmail): nil to tell by a `\All` folder.
  public var sourceHasLabels: Bool?
  /// How a label source's messages are copied (`--gmail-labels`).
  public var labelMode: LabelMode = .folders

  public init() {}
}

/// A rename rule, `s/REGEX/REPLACEMENT/` (any delimiter after `s`; flag `i` ignores case;
/// `$1` in the replacement is the first group), applied to the target name a folder would
/// otherwise get: `s/^INBOX\.//` drops a Courier-style prefix. Every match is replaced,
/// so the flag `g` is accepted and changes nothing.
public struct FolderRule: Sendable, Equatable {
  public let text: String
  let pattern: String
  let replacement: String
  let ignoreCase: Bool

  public init(_ text: String) throws {
    self.text = text
    let characters = Array(text)
    guard characters.count >= 4, characters[0] == "s", let delimiter = characters.dropFirst().first,
      !delimiter.isLetter, !delimiter.isNumber, delimiter != "\\"
    else { throw FolderRuleError(text: text, problem: "is not s/REGEX/REPLACEMENT/") }
    // Split on unescaped delimiters.
    var parts: [String] = [""]
    var index = 2
    while index < characters.count {
      let character = characters[index]
      if character == "\\" && index + 1 < characters.count && characters[index + 1] == delimiter {
        parts[parts.count - 1].append(delimiter)
        index += 2
        continue
      }
      if character == delimiter { parts.append("") } else { parts[parts.count - 1].append(character) }
      index += 1
    }
    guard parts.count == 3, !parts[0].isEmpty, parts[2].allSatisfy({ "ig".contains($0) }) else {
      throw FolderRuleError(text: text, problem: "is not s/REGEX/REPLACEMENT/ with optional flags i and g")
    }
    pattern = parts[0]
    replacement = parts[1]
    ignoreCase = parts[2].contains("i")
    do {
      _ = try expression()
    } catch {
      throw FolderRuleError(text: text, problem: "has an invalid regular expression '\(pattern)'")
    }
  }

  private func expression() throws -> NSRegularExpression {
    try NSRegularExpression(pattern: pattern, options: ignoreCase ? [.caseInsensitive] : [])
  }

  public func matches(_ name: String) -> Bool {
    (try? expression())?.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil
  }

  public func apply(to name: String) -> String {
    guard let expression = try? expression() else { return name }
    return expression.stringByReplacingMatches(
      in: name, range: NSRange(name.startIndex..., in: name), withTemplate: replacement)
  }
}

/// A `--folder-map` rule that cannot be read.
public struct FolderRuleError: UserFacingError, Equatable {
  public let text: String
  public let problem: String
  public var description: String { "folder rule '\(text)' \(problem)" }
  public var hint: String? { "write rules like 's/^INBOX\\.//' or 's/Gesendet/Sent/i'" }
  public var scope: FailureScope { .job }
  public var isTemporary: Bool { false }
  public var kind: FailureKind { .configuration }
}
