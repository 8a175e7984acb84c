import Foundation
import Synchronization

/// Passwords a job file supplies (inline, or from the variable it names), under the
/// `MAILFERRY_…PASSWORD` names they stand for. Bound only around the one job `run` is
/// running, never put in the process environment, so no other job and no child process
/// sees them.
enum JobSecrets {
  @TaskLocal static var passwords: [String: String] = [:]

  /// Variables job files named with `password-env`: they hold passwords whatever their
  /// names, so `ChildEnvironment` keeps them from every command MailFerry starts.
  static func hide(_ names: some Sequence<String>) { hidden.withLock { $0.formUnion(names) } }
  static func isHidden(_ name: String) -> Bool { hidden.withLock { $0.contains(name) } }
  private static let hidden = Mutex<Set<String>>([])

  /// The process environment with the current job's passwords over it.
  static func environment() -> [String: String] {
    ProcessInfo.processInfo.environment.merging(passwords) { _, job in job }
  }
}
