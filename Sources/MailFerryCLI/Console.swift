import Foundation
import MailCore

/// Where a command prints: results to standard output, errors, warnings and progress to
/// standard error, and every line also to the `--log` file when there is one. Tests
/// capture both.
final class Console: @unchecked Sendable {
  private let lock = NSLock()
  private let writeOut: (String) -> Void
  private let writeErr: (String) -> Void
  let isTerminal: Bool
  /// The `--log` file; set once, before the command runs.
  var log: LogFile?
  /// Without a terminal, how often the progress line is written out as a status line
  /// (a terminal redraws it in place instead).
  var plainProgressInterval: Duration = .seconds(30)
  private var lastPlainProgress = ContinuousClock.now

  init(out: @escaping (String) -> Void, err: @escaping (String) -> Void, isTerminal: Bool) {
    writeOut = out
    writeErr = err
    self.isTerminal = isTerminal
  }

  static func standard() -> Console {
    Console(
      out: { FileHandle.standardOutput.write(Data($0.utf8)) },
      err: { FileHandle.standardError.write(Data($0.utf8)) },
      isTerminal: isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1)
  }

  /// Whether a progress line is on screen (it is erased before anything else is written).
  private var progressShown = false

  // Everything printed may hold folder names, server texts or message headers: control
  // characters are shown escaped, never sent to the terminal.
  func print(_ line: String = "") { emit(line, level: .info, toOut: true) }
  func error(_ line: String) { emit(line, level: .error, prefix: "error: ") }
  func warning(_ line: String) { emit(line, level: .warning, prefix: "warning: ") }
  func hint(_ line: String) { emit(line, level: .info, prefix: "hint: ", loggedPrefix: "hint: ") }
  func status(_ line: String) { emit(line, level: .info) }

  /// A line about the run's progress (a folder started or finished, a reconnect): without
  /// a terminal (cron, a pipe, a batch's log) it carries the time, so a log shows when
  /// each step happened.
  func event(_ line: String) { emit(line, level: .info, prefix: isTerminal ? "" : Timestamp.utc(Date()) + " ") }

  /// Writes one line to the log (with `loggedPrefix`) and to standard output or error
  /// (with `prefix`), erasing the progress line first.
  private func emit(
    _ line: String, level: LogFile.Level, prefix: String = "", loggedPrefix: String = "", toOut: Bool = false
  ) {
    log?.write(level, loggedPrefix + line)
    let text = prefix + safe(line) + "\n"
    lock.withLock {
      let output = clearProgress() + text
      if toOut { writeOut(output) } else { writeErr(output) }
    }
  }

  private func safe(_ text: String) -> String { ControlCharacters.escaped(text) }

  /// Replaces the progress line on a terminal (carriage return, erase to end of line);
  /// elsewhere writes it as a timestamped event every `plainProgressInterval`.
  func progress(_ line: String) {
    guard isTerminal else {
      let now = ContinuousClock.now
      let due: Bool = lock.withLock {
        if now - lastPlainProgress < plainProgressInterval { return false }
        lastPlainProgress = now
        return true
      }
      if due { event("progress: " + line) }
      return
    }
    lock.withLock {
      writeErr("\r\u{1B}[K" + ControlCharacters.escaped(line, keepingLineBreaks: false))
      progressShown = true
    }
  }

  func endProgress() { lock.withLock { writeErr(clearProgress()) } }

  private func clearProgress() -> String {
    guard progressShown else { return "" }
    progressShown = false
    return "\r\u{1B}[K"
  }
}
