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

  func print(_ line: String = "") { lock.withLock { writeOut(line + "\n") } }
  func error(_ line: String) { lock.withLock { writeErr("error: " + line + "\n") } }
  func warning(_ line: String) { lock.withLock { writeErr("warning: " + line + "\n") } }
  func hint(_ line: String) { lock.withLock { writeErr("hint: " + line + "\n") } }
  func status(_ line: String) { lock.withLock { writeErr(line + "\n") } }
}
