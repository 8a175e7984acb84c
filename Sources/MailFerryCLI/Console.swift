import Foundation

/// Where a command prints: results to standard output, errors, warnings and progress to
/// standard error. Tests capture both.
final class Console: @unchecked Sendable {
  private let lock = NSLock()
  private let writeOut: (String) -> Void
  private let writeErr: (String) -> Void
  let isTerminal: Bool

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

  func print(_ line: String = "") { lock.withLock { writeOut(clearProgress() + line + "\n") } }
  func error(_ line: String) { lock.withLock { writeErr(clearProgress() + "error: " + line + "\n") } }
  func warning(_ line: String) { lock.withLock { writeErr(clearProgress() + "warning: " + line + "\n") } }
  func hint(_ line: String) { lock.withLock { writeErr(clearProgress() + "hint: " + line + "\n") } }
  func status(_ line: String) { lock.withLock { writeErr(clearProgress() + line + "\n") } }

  /// Replaces the progress line on a terminal (carriage return, erase to end of line).
  func progress(_ line: String) {
    guard isTerminal else { return }
    lock.withLock {
      writeErr("\r\u{1B}[K" + line)
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
