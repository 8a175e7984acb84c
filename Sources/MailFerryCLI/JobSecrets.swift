import Foundation

/// Passwords a job file supplies (inline, or from the variable it names), under the
/// `MAILFERRY_…PASSWORD` names they stand for. Bound only around the one job `run` is
/// running, never put in the process environment, so no other job and no child process
/// sees them.
enum JobSecrets {
  @TaskLocal static var passwords: [String: String] = [:]

  /// The process environment with the current job's passwords over it.
  static func environment() -> [String: String] {
    ProcessInfo.processInfo.environment.merging(passwords) { _, job in job }
  }
}
