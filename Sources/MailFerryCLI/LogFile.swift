import Foundation
import MailCore
import Storage

/// `--log FILE`: every line the run prints, appended with a UTC timestamp and a level, for
/// runs nobody watches (cron, systemd, a batch). The file is created 0600: it names
/// accounts and servers.
final class LogFile: @unchecked Sendable {
  enum Level: String {
    case error = "ERROR"
    case warning = "WARN "
    case info = "INFO "
  }

  let path: String
  private let handle: FileHandle
  private let lock = NSLock()

  init(path: String) throws {
    self.path = path
    try FileSecurity.createPrivateFileIfMissing(atPath: path)
    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
    guard fd >= 0 else { throw FileError(path: path, operation: "open the log for appending", errno: errno) }
    handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
  }

  /// Appends one line per line of `text`, each stamped with the time and `level`.
  func write(_ level: Level, _ text: String) {
    let stamp = Timestamp.utc(Date())
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
      "\(stamp) \(level.rawValue) \(ControlCharacters.escaped(String($0), keepingLineBreaks: false))\n"
    }
    lock.withLock {
      // A log that cannot be written (a full disk) must not stop the job it describes.
      try? handle.write(contentsOf: Data(lines.joined().utf8))
    }
  }
}

/// Times as people and log tools read them.
enum Timestamp {
  /// `2026-12-02T11:30:05.123Z`: sortable, unambiguous, the same on every machine of a batch.
  static func utc(_ date: Date) -> String {
    var time = time_t(date.timeIntervalSince1970)
    var parts = tm()
    gmtime_r(&time, &parts)
    let millis = Int((date.timeIntervalSince1970 - Double(time)) * 1000)
    return String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), min(999, max(0, millis)))
  }
}
