import Foundation

/// How an account's last run in a batch ended, kept next to its state file as
/// `ID.outcome.json`. A rerun of the batch skips accounts whose last run succeeded. One
/// file per account, written by the one process running it, so shards on several machines
/// sharing the state directory never write the same file.
struct BatchOutcome: Codable, Equatable, Sendable {
  let id: String
  /// The account's status, as `mailferry migrate` would have exited.
  let status: Int32
  /// The child's raw exit code, or nil when a signal ended it.
  let exitCode: Int32?
  /// The signal that ended the child, if one did.
  let signal: Int32?
  let finishedAt: Date
  let seconds: Double
  /// From the child's report; nil when it stopped before the copying began.
  let copied: Int?
  let failed: Int?
  /// The last `error:` line the child printed in this run.
  let error: String?

  enum CodingKeys: String, CodingKey {
    case id, status, signal, seconds, copied, failed, error
    case exitCode = "exit_code"
    case finishedAt = "finished_at"
  }

  var exitStatus: ExitCode { ExitCode(rawValue: status) ?? .partial }

  static func path(id: String, in directory: String) -> String { "\(directory)/\(id).outcome.json" }

  static func read(id: String, in directory: String) -> BatchOutcome? {
    guard let data = FileManager.default.contents(atPath: path(id: id, in: directory)) else { return nil }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try? decoder.decode(BatchOutcome.self, from: data)
  }

  /// Replaces the file atomically (a temporary file renamed over it), created 0600.
  func write(in directory: String) throws {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.sortedKeys]
    let final = Self.path(id: id, in: directory)
    let temporary = final + ".\(getpid()).tmp"
    let written = FileManager.default.createFile(
      atPath: temporary, contents: try encoder.encode(self) + Data("\n".utf8), attributes: [.posixPermissions: 0o600])
    guard written, rename(temporary, final) == 0 else {
      let reason = String(cString: strerror(errno))
      unlink(temporary)
      throw ConfigurationError(
        what: "batch outcome file \(final)", problem: "cannot be written: \(reason)",
        fix: "check that the state directory is writable and not full")
    }
  }
}
