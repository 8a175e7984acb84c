import Foundation

/// One line of a batch's accounts file: what to run for the account, with which
/// credentials, and the id that names its state, log and outcome files.
struct BatchAccount: Equatable, Sendable {
  struct SideCredential: Equatable, Sendable {
    /// "source" or "target".
    let side: String
    let credential: AccountsFile.Credential
  }

  let id: String
  /// The line of the accounts file, for messages.
  let line: Int
  /// migrate, backup or restore.
  let command: String
  let source: String
  let target: String
  let credentials: [SideCredential]
  /// Extra options from the file's `options` column.
  let options: [String]

  /// Letters, digits and `. _ @ + -`, not starting with `.` or `-`: safe as a file name on
  /// any shared storage and never read as an option.
  static func isValidID(_ id: String) -> Bool {
    guard let first = id.first, first != ".", first != "-", id.count <= 200 else { return false }
    return id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._@+-".contains($0)) }
  }

  /// The first option in `words` that the batch sets for each account itself (`--state`,
  /// `--json`, `--report`), if any: given twice, the account's command would refuse to run.
  static func reservedOption(in words: [String]) -> String? {
    words.lazy.compactMap { word in
      ["--state", "--json", "--report"].first { word == $0 || word.hasPrefix($0 + "=") }
    }.first
  }

  /// `text` with every character an id may not hold replaced by `_`.
  static func fileSafe(_ text: String) -> String {
    let safe = String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._@+-".contains($0)) ? $0 : "_" })
    return safe.first == "." || safe.first == "-" ? "_" + safe.dropFirst() : safe
  }

  /// The child's command line after the executable: the job, its state file, JSON
  /// events, its HTML report beside the state file (`ID.html`, for the account's owner),
  /// the credentials as options (never a password), then the batch's options and the
  /// account's own.
  func arguments(stateFile: String, batchOptions: [String]) -> [String] {
    let report = (stateFile as NSString).deletingPathExtension + ".html"
    var words = [command, source, target, "--state", stateFile, "--json", "--report", report]
    for entry in credentials {
      switch entry.credential {
      case .passwordFile(let path): words += ["--\(entry.side)-password-file", path]
      case .passwordCommand(let command): words += ["--\(entry.side)-password-command", command]
      case .oauthTokenCommand(let command): words += ["--\(entry.side)-oauth-token-command", command]
      case .passwordVariable: break
      }
    }
    return words + batchOptions + options
  }

  /// The child's environment: the batch's without any MailFerry secret, plus the
  /// passwords this account takes from the batch's environment, as
  /// `MAILFERRY_SOURCE_PASSWORD` / `MAILFERRY_TARGET_PASSWORD`.
  func environment(from batch: [String: String]) throws(ConfigurationError) -> [String: String] {
    var environment = ChildEnvironment.filtered(batch)
    for entry in credentials {
      guard case .passwordVariable(let name) = entry.credential else { continue }
      guard let value = batch[name], !value.isEmpty else {
        throw ConfigurationError(
          what: "account \(id)", problem: "takes its \(entry.side) password from $\(name), which is not set",
          fix: "export \(name) before running the batch, or change the \(entry.side)-password-env column")
      }
      environment["MAILFERRY_\(entry.side.uppercased())_PASSWORD"] = value
    }
    return environment
  }
}
