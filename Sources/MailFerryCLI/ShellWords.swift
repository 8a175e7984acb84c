/// Command lines as people read them back and paste them into a shell: in reports, in
/// `run`'s echo of each job, in generated completion scripts.
enum ShellWords {
  /// `word` single-quoted for a shell.
  static func singleQuoted(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// `word` as a shell reads it back: as it is when it holds only letters, digits and
  /// `@%+=:,./-_` (or the `…` that stands for a hidden value), else single-quoted.
  static func quoted(_ word: String) -> String {
    let plain =
      !word.isEmpty
      && word.allSatisfy { $0 == "…" || ($0.isASCII && ($0.isLetter || $0.isNumber || "@%+=:,./-_".contains($0))) }
    return plain ? word : singleQuoted(word)
  }

  /// The arguments as given, except the values of `--…-command` options: a password or
  /// token command may hold a client secret.
  static func hidingCommands(_ arguments: [String]) -> [String] {
    var result: [String] = []
    var hideNext = false
    for word in arguments {
      if hideNext {
        result.append("…")
        hideNext = false
      } else if word.hasPrefix("--"), word.hasSuffix("-command") {
        result.append(word)
        hideNext = true
      } else if word.hasPrefix("--"), let equals = word.firstIndex(of: "="), word[..<equals].hasSuffix("-command") {
        result.append(word[...equals] + "…")
      } else {
        result.append(word)
      }
    }
    return result
  }

  /// The words as one line to show: command values hidden, each word quoted as needed.
  static func shown(_ words: [String]) -> String {
    hidingCommands(words).map(quoted).joined(separator: " ")
  }
}
