import Dispatch
import Foundation

/// Ctrl-C (SIGINT) and SIGTERM during a long job: the first asks the job to stop after the
/// batches in flight, so the checkpoint is committed; a second one ends the process at once
/// (still safe: the next run reconciles what was in flight).
enum StopSignals {
  static func whileRunning<T>(onFirst: @escaping @Sendable () -> Void, _ body: () throws -> T) rethrows -> T {
    let queue = DispatchQueue(label: "mailferry.signals")
    let received = SignalCount()
    let sources = [SIGINT, SIGTERM].map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
      source.setEventHandler {
        if received.increment() == 1 {
          onFirst()
        } else {
          _exit(ExitCode.interrupted.rawValue)
        }
      }
      source.resume()
      return source
    }
    defer {
      for source in sources { source.cancel() }
      signal(SIGINT, SIG_DFL)
      signal(SIGTERM, SIG_DFL)
    }
    return try body()
  }
}

private final class SignalCount: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  func increment() -> Int {
    lock.withLock {
      count += 1
      return count
    }
  }
}
