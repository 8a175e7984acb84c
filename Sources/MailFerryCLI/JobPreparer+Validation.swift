import Foundation
import MailCore

/// The checks of a prepared job that reuse the command's own parsing: the job's words parse
/// with its spec, its stores are of the right kinds, its option values are valid.
extension JobPreparer {
  /// What can be known without connecting: the command line parses, the stores are of the
  /// right kind, and every option value is one the command takes.
  func validate(
    _ argv: [String], spec: CommandSpec, stores: (first: String, second: String), values: (String, String)
  ) throws {
    let parsed = try ParsedArguments(Array(argv.dropFirst()), spec: spec)
    let first = try StoreProblem.wrap(stores.first) { try JobEndpoint.parse(values.0) }
    let second = try StoreProblem.wrap(stores.second) { try JobEndpoint.parse(values.1) }
    if stores.first == "archive" && first.archivePath == nil {
      throw StoreProblem(
        key: "archive", message: "archive '\(values.0)' is not a directory", hint: "give the archive's directory")
    }
    if stores.second == "archive" && second.archivePath == nil {
      throw StoreProblem(
        key: "archive", message: "archive '\(values.1)' is not a directory", hint: "give the archive's directory")
    }
    if spec.name == "backup", first.archivePath != nil {
      throw StoreProblem(
        key: "source", message: "source '\(values.0)' is not a server or a local store",
        hint: "write it as imaps://user@host, pop3s://user@host, maildir:PATH or mbox:PATH")
    }
    _ = try MigrateCommand.options(parsed, sourceFolder: first.folder, command: spec.name)
  }

  /// The line of the key an error message names as `'--key'`.
  static func line(naming message: String, in lines: [String: Int]) -> Int? {
    guard let start = message.range(of: "'--") else { return nil }
    let name = message[start.upperBound...].prefix { $0 != "'" && $0 != "=" }
    return lines[String(name)]
  }
}

/// A store key whose value is not a store of the kind the job needs.
struct StoreProblem: Error {
  let key: String
  let message: String
  let hint: String?

  static func wrap(_ key: String, _ body: () throws -> JobEndpoint) throws -> JobEndpoint {
    do {
      return try body()
    } catch let error as any UserFacingError {
      throw StoreProblem(key: key, message: error.description, hint: error.hint)
    }
  }
}
