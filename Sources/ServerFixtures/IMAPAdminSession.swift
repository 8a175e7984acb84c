import Foundation
import Transport

/// A bare IMAP session for test setup on servers administered over IMAP (Cyrus creates a
/// user's INBOX with `CREATE user.NAME`). Commands and answers are single lines: no
/// literals, no TLS, loopback only.
struct IMAPAdminSession {
  private let connection: Connection
  private var tagCounter = 0

  /// Connects to the plaintext port and logs in.
  init(host: String, port: Int, user: String, password: String) throws {
    connection = try Connection.open(
      host: host, port: port, security: .plain, connectTimeout: .seconds(10), timeout: .seconds(30))
    let greeting = String(decoding: try connection.readLine(), as: UTF8.self)
    guard greeting.hasPrefix("* OK") else {
      connection.close()
      throw FixtureError("IMAP server on port \(port) greeted with '\(greeting)'")
    }
    try command("LOGIN \(Self.quoted(user)) \(Self.quoted(password))")
  }

  /// Sends one command and returns the untagged lines; throws on NO or BAD.
  @discardableResult
  mutating func command(_ text: String) throws -> [String] {
    tagCounter += 1
    let tag = "a\(tagCounter)"
    try connection.send("\(tag) \(text)\r\n", trace: .verbatim)
    try connection.flush()
    var untagged: [String] = []
    while true {
      let line = String(decoding: try connection.readLine(), as: UTF8.self)
      guard line.hasPrefix("\(tag) ") else {
        untagged.append(line)
        continue
      }
      guard line.dropFirst(tag.count + 1).hasPrefix("OK") else {
        throw FixtureError("IMAP command '\(text.hasPrefix("LOGIN") ? "LOGIN" : text)' failed: \(line)")
      }
      return untagged
    }
  }

  /// Logs out and closes the connection.
  mutating func logout() {
    _ = try? command("LOGOUT")
    connection.close()
  }

  /// `text` as an IMAP quoted string.
  static func quoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
}
