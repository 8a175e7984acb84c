import Foundation
import MailCore

/// A batch's accounts list: a CSV file with a header row naming its columns, one account
/// per line (docs/mass-migration.md).
struct AccountsFile {
  /// Where an account's password (or token) comes from. Never the password itself.
  enum Credential: Equatable, Sendable {
    case passwordFile(String)
    case passwordCommand(String)
    /// The name of a variable in the batch's environment holding the password.
    case passwordVariable(String)
    case oauthTokenCommand(String)
  }

  let path: String
  let accounts: [BatchAccount]

  static let commands = ["migrate", "backup", "restore"]
  static let credentialColumns = ["password-file", "password-command", "password-env", "oauth-token-command"]
  static let columns: [String] =
    ["id", "command", "source", "target", "options"]
    + ["source", "target"].flatMap { side in credentialColumns.map { "\(side)-\($0)" } }

  /// Reads and checks the whole file: any mistake stops the batch before an account runs.
  init(path: String) throws(AccountsFileError) {
    self.path = path
    guard let data = FileManager.default.contents(atPath: path) else {
      throw AccountsFileError(
        file: path, line: nil, problem: "cannot be read: \(String(cString: strerror(errno)))",
        fix: "check the path and its permissions")
    }
    guard let text = String(validating: data, as: UTF8.self), !text.contains("\0") else {
      throw AccountsFileError(
        file: path, line: nil, problem: "is not UTF-8 text", fix: "save the file as UTF-8 CSV")
    }
    let records: [CSVRecords.Record]
    do {
      records = try CSVRecords.parse(text)
    } catch {
      throw AccountsFileError(file: path, line: error.line, problem: error.problem, fix: error.fix)
    }
    guard let header = records.first else {
      throw AccountsFileError(
        file: path, line: nil, problem: "is empty",
        fix: "write a header row (source,target,…) and one line per account")
    }
    let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    for (position, name) in names.enumerated() {
      guard Self.columns.contains(name) else {
        let suggestion = ParsedArguments.closest(to: name, among: Self.columns)
        throw AccountsFileError(
          file: path, line: header.line, problem: "unknown column '\(name)'",
          fix: suggestion.map { "did you mean '\($0)'?" }
            ?? "columns are: " + Self.columns.joined(separator: ", "))
      }
      if names[..<position].contains(name) {
        throw AccountsFileError(
          file: path, line: header.line, problem: "column '\(name)' appears twice", fix: "remove one of them")
      }
    }
    for required in ["source", "target"] where !names.contains(required) {
      throw AccountsFileError(
        file: path, line: header.line, problem: "the header has no '\(required)' column",
        fix: "the first line names the columns; 'source' and 'target' are required")
    }
    let base = (path as NSString).deletingLastPathComponent
    var accounts: [BatchAccount] = []
    var lineOfID: [String: Int] = [:]
    for record in records.dropFirst() {
      guard record.fields.count == names.count else {
        throw AccountsFileError(
          file: path, line: record.line,
          problem: "the line has \(record.fields.count) field(s), the header \(names.count)",
          fix: "put a field that holds a comma in double quotes; leave unused columns empty, not out")
      }
      var row: [String: String] = [:]
      for (name, value) in zip(names, record.fields) {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty { row[name] = trimmed }
      }
      let account = try Self.account(row, line: record.line, file: path, base: base)
      if let earlier = lineOfID[account.id] {
        throw AccountsFileError(
          file: path, line: record.line, problem: "account id '\(account.id)' is already used on line \(earlier)",
          fix: "give each account its own id in the 'id' column (it names the account's state and log files)")
      }
      lineOfID[account.id] = record.line
      accounts.append(account)
    }
    guard !accounts.isEmpty else {
      throw AccountsFileError(
        file: path, line: nil, problem: "lists no accounts", fix: "add one line per account under the header")
    }
    self.accounts = accounts
  }

  private static func account(
    _ row: [String: String], line: Int, file: String, base: String
  ) throws(AccountsFileError) -> BatchAccount {
    func failure(_ problem: String, _ fix: String) -> AccountsFileError {
      AccountsFileError(file: file, line: line, problem: problem, fix: fix)
    }
    guard let source = row["source"], let target = row["target"] else {
      throw failure(
        "the account has no \(row["source"] == nil ? "source" : "target")", "every account needs a source and a target")
    }
    let command = row["command"] ?? "migrate"
    guard commands.contains(command) else {
      throw failure("command '\(command)' is not one a batch runs", "use " + commands.joined(separator: ", "))
    }
    let id = row["id"] ?? derivedID(source: source)
    guard BatchAccount.isValidID(id) else {
      throw failure(
        row["id"] == nil ? "no account id can be made from source '\(source)'" : "account id '\(id)' is not usable",
        "an id is letters, digits and . _ @ + - (not starting with . or -); set it in the 'id' column")
    }
    var credentials: [(side: String, Credential)] = []
    for side in ["source", "target"] {
      let given = credentialColumns.compactMap { column in row["\(side)-\(column)"].map { (column, $0) } }
      guard given.count <= 1 else {
        throw failure(
          "the \(side) password is given more than one way (" + given.map { "\(side)-\($0.0)" }.joined(separator: ", ")
            + ")", "keep one of them")
      }
      guard let (column, value) = given.first else { continue }
      switch column {
      case "password-file": credentials.append((side, .passwordFile(resolved(value, base: base))))
      case "password-command": credentials.append((side, .passwordCommand(value)))
      case "password-env":
        guard value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
          throw failure("'\(value)' is not an environment variable name", "name the variable, without a $")
        }
        credentials.append((side, .passwordVariable(value)))
      default: credentials.append((side, .oauthTokenCommand(value)))
      }
    }
    let options: [String]
    do {
      options = try OptionWords.split(row["options"] ?? "")
    } catch {
      throw failure("the 'options' field: \(error.problem)", error.fix)
    }
    if let reserved = BatchAccount.reservedOption(in: options) {
      throw failure(
        "the 'options' field sets \(reserved), which the batch sets for each account itself",
        "remove it; the account's state file is ID.sqlite in the batch's state directory")
    }
    return BatchAccount(
      id: id, line: line, command: command, source: resolvedStore(source, base: base),
      target: resolvedStore(target, base: base),
      credentials: credentials.map { BatchAccount.SideCredential(side: $0.side, credential: $0.1) }, options: options)
  }

  /// The source's user name (`alice@example.org` for `imaps://alice%40example.org@host`),
  /// else the last part of its path.
  static func derivedID(source: String) -> String {
    if let url = try? JobEndpoint.parse(source), let user = url.serverURL?.user, !user.isEmpty {
      return BatchAccount.fileSafe(user)
    }
    let path = source.split(separator: ":", maxSplits: 1).last.map(String.init) ?? source
    return BatchAccount.fileSafe((path as NSString).lastPathComponent)
  }

  /// A relative path is relative to the accounts file, not to where the batch was started.
  static func resolved(_ path: String, base: String) -> String {
    guard !path.hasPrefix("/"), !path.hasPrefix("~") else { return (path as NSString).expandingTildeInPath }
    return ((base.isEmpty ? "." : base) as NSString).appendingPathComponent(path)
  }

  /// Archive directories and `maildir:`, `mbox:`, `eml:` paths made relative to the
  /// file; server URLs and provider forms (`gmail:alice@gmail.com`) unchanged.
  static func resolvedStore(_ store: String, base: String) -> String {
    for kind in ["maildir:", "mbox:", "eml:"] where store.hasPrefix(kind) {
      return kind + resolved(String(store.dropFirst(kind.count)), base: base)
    }
    return store.contains(":") ? store : resolved(store, base: base)
  }
}

/// A mistake in the accounts file, with the line it is on: the batch stops before any
/// account runs (exit status 65).
struct AccountsFileError: UserFacingError, Equatable {
  let file: String
  let line: Int?
  let problem: String
  let fix: String

  var description: String { line.map { "\(file):\($0): \(problem)" } ?? "\(file) \(problem)" }
  var hint: String? { fix }
  var scope: FailureScope { .job }
  var isTemporary: Bool { false }
}
