import Foundation
import Transport

/// Just enough IMAP, spoken line by line, to drive the transport against a real server.
/// (The real IMAP client lives in its own layer; these tests cover only the transport.)
enum IMAPLines {
  /// Reads the greeting line.
  static func greeting(_ connection: Connection) throws -> String {
    String(decoding: try connection.readLine(), as: UTF8.self)
  }

  /// Sends `tag command` and returns every line up to and including the tagged reply.
  @discardableResult
  static func command(
    _ connection: Connection, _ tag: String, _ command: String, trace: TraceText = .verbatim
  ) throws
    -> [String]
  {
    try connection.send("\(tag) \(command)\r\n", trace: trace)
    try connection.flush()
    var lines: [String] = []
    while true {
      let line = String(decoding: try connection.readLine(), as: UTF8.self)
      lines.append(line)
      if line.hasPrefix("\(tag) ") { return lines }
    }
  }

  /// True when the last line is a tagged OK.
  static func isOK(_ lines: [String]) -> Bool {
    guard let last = lines.last else { return false }
    return last.split(separator: " ").dropFirst().first == "OK"
  }
}
