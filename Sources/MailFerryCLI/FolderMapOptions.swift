import Engine
import Foundation

/// `--folder-map OLD=NEW`, `--folder-map 's/REGEX/NEW/'` and `--folder-map-file FILE` (one
/// of those per line; blank lines and lines starting with `#` are skipped).
enum FolderMapOptions {
  static func read(_ arguments: ParsedArguments, into options: inout MigrationOptions, command: String) throws {
    for mapping in arguments.values("folder-map") {
      try add(mapping, to: &options) { problem in
        UsageError(command: command, message: "option '--folder-map' \(problem)")
      }
    }
    guard let path = arguments.value("folder-map-file") else { return }
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ConfigurationError(
        what: "folder map file \(path)", problem: "cannot be read", fix: "give a UTF-8 text file of OLD=NEW lines")
    }
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let entry = line.trimmingCharacters(in: .whitespaces)
      if entry.isEmpty || entry.hasPrefix("#") { continue }
      try add(entry, to: &options) { problem in
        ConfigurationError(
          what: "\(path), line \(index + 1)", problem: problem, fix: "write OLD=NEW or s/REGEX/NEW/ on each line")
      }
    }
  }

  /// A rule when it looks like one (`s` and a punctuation delimiter), else OLD=NEW.
  private static func add(
    _ entry: String, to options: inout MigrationOptions, error: (String) -> any Error
  ) throws {
    if isRule(entry) {
      do {
        options.naming.rules.append(try FolderRule(entry))
      } catch let problem as FolderRuleError {
        throw error(problem.problem + " ('\(entry)')")
      }
      return
    }
    let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
      throw error("takes OLD=NEW or s/REGEX/NEW/, not '\(entry)'")
    }
    options.folderMap[parts[0]] = parts[1]
  }

  static func isRule(_ entry: String) -> Bool {
    guard entry.hasPrefix("s"), let delimiter = entry.dropFirst().first else { return false }
    return delimiter.isPunctuation || delimiter.isSymbol
  }
}
