import Foundation

/// The private directory each test server runs in, below $MAILFERRY_TEST_TMPDIR (else the
/// system's temporary directory), and what the servers do with it alike.
enum ServerDirectory {
  /// Creates `mailferry-NAME-PID-RANDOM`, mode 0755 (the servers' unprivileged processes
  /// must reach their files below it). The path has no "//": Dovecot refuses passwd-file
  /// paths it cannot normalise.
  static func make(for server: String) throws -> String {
    let base = ProcessInfo.processInfo.environment["MAILFERRY_TEST_TMPDIR"] ?? NSTemporaryDirectory()
    let trimmedBase = base.hasSuffix("/") ? String(base.dropLast()) : base
    let path = "\(trimmedBase)/mailferry-\(server)-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    chmod(path, 0o755)
    return path
  }

  /// Removes a stopped server's directory, unless MAILFERRY_KEEP_TEST_FILES is set.
  static func remove(_ path: String) {
    if ProcessInfo.processInfo.environment["MAILFERRY_KEEP_TEST_FILES"] == nil {
      try? FileManager.default.removeItem(atPath: path)
    }
  }

  /// The last `lines` lines of a server's log, for failure messages.
  static func tail(of log: String, lines: Int) -> String {
    guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return "" }
    return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
  }
}
