import Foundation

/// Reading what an account's child wrote in this run (from the offset its files had when
/// it started), for the batch's summary line, and appending the batch's own lines.
enum BatchChildOutput {
  struct Totals: Equatable {
    let copied: Int
    let failed: Int
  }

  /// The totals of the last `report` event in a `--json` events file.
  static func lastReport(_ path: String, from offset: UInt64) -> Totals? {
    for line in lines(path, from: offset).reversed() {
      guard line.contains("\"report\""),
        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        object["event"] as? String == "report"
      else { continue }
      return Totals(copied: object["copied"] as? Int ?? 0, failed: object["failed"] as? Int ?? 0)
    }
    return nil
  }

  /// The last `error:` line of a log, without the prefix.
  static func lastError(_ path: String, from offset: UInt64) -> String? {
    lines(path, from: offset).last { $0.hasPrefix("error: ") }.map { String($0.dropFirst("error: ".count)) }
  }

  static func appendLine(_ line: String, to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  }

  private static func lines(_ path: String, from offset: UInt64) -> [Substring] {
    guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
    defer { try? handle.close() }
    guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd() else { return [] }
    return String(decoding: data, as: UTF8.self).split(separator: "\n")
  }
}
