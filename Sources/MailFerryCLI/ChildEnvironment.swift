import Foundation

/// The environment every command MailFerry starts (password and token commands) gets:
/// MailFerry's own, minus the secrets it was given there. `MAILFERRY_SOURCE_PASSWORD` must
/// not reach `--target-password-command`, nor any other child.
enum ChildEnvironment {
  /// Whether `name` holds a secret: `MAILFERRY_` and then `PASSWORD`, `TOKEN` or `SECRET`
  /// anywhere in the name (any case).
  static func isSecret(_ name: String) -> Bool {
    let upper = name.uppercased()
    guard upper.hasPrefix("MAILFERRY_") else { return false }
    return ["PASSWORD", "TOKEN", "SECRET"].contains { upper.contains($0) }
  }

  /// `environment` without the secrets.
  static func filtered(_ environment: [String: String]) -> [String: String] {
    environment.filter { !isSecret($0.key) && !JobSecrets.isHidden($0.key) }
  }

  /// This process's environment without the secrets, as `NAME=value` lines for `posix_spawn`
  /// (each `strdup`ed; free them after the spawn).
  static func cStrings() -> [UnsafeMutablePointer<CChar>?] {
    filtered(ProcessInfo.processInfo.environment).map { strdup($0.key + "=" + $0.value) } + [nil]
  }
}
