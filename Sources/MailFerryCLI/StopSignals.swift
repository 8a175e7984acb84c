import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Ctrl-C (SIGINT) and SIGTERM during a long job: the first asks the job to stop after the
/// batches in flight, so the checkpoint is committed; a second one ends the process at once
/// (still safe: the next run reconciles what was in flight).
///
/// A plain signal handler, not a dispatch source: on Linux a dispatch source only sees a
/// signal that every thread blocks, and threads started before the job would not. The
/// handler does only async-signal-safe work: atomics, `write` and `_exit`.
enum StopSignals {
  static func whileRunning<T>(onFirst: @escaping @Sendable () -> Void, _ body: () throws -> T) throws -> T {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else {
      throw ConfigurationError(
        what: "the Ctrl-C handler", problem: "could not be set up: \(String(cString: strerror(errno)))",
        fix: "the process may be out of file descriptors; raise the limit with ulimit -n")
    }
    let (readEnd, writeEnd) = (ends[0], ends[1])
    signalsReceived.store(0, ordering: .sequentiallyConsistent)
    wakeUpEnd.store(writeEnd, ordering: .sequentiallyConsistent)
    let watcher = Thread {
      var byte: UInt8 = 0
      while read(readEnd, &byte, 1) < 0 && errno == EINTR {}
      close(readEnd)
      if byte == Wake.signal.rawValue { onFirst() }
    }
    watcher.start()
    for number in [SIGINT, SIGTERM] { signal(number, handleStopSignal) }
    // A parent may have started us with these signals blocked (a blocked mask is
    // inherited); unblocked here, they reach this thread and the job's workers it starts.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGINT)
    sigaddset(&stopSignals, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
    defer {
      signal(SIGINT, SIG_DFL)
      signal(SIGTERM, SIG_DFL)
      wakeUpEnd.store(-1, ordering: .sequentiallyConsistent)
      // Ends the watcher if no signal came; after a signal it has already returned.
      var byte = Wake.finished.rawValue
      _ = write(writeEnd, &byte, 1)
      close(writeEnd)
    }
    return try body()
  }

  enum Wake: UInt8 {
    case finished = 0
    case signal = 1
  }
}

private let signalsReceived = Atomic<Int>(0)

/// The write end of the running job's wake-up pipe, or -1.
private let wakeUpEnd = Atomic<Int32>(-1)

private func handleStopSignal(_: Int32) {
  let count = signalsReceived.add(1, ordering: .sequentiallyConsistent).newValue
  guard count == 1 else { _exit(ExitCode.interrupted.rawValue) }
  let end = wakeUpEnd.load(ordering: .sequentiallyConsistent)
  guard end >= 0 else { return }
  var byte = StopSignals.Wake.signal.rawValue
  _ = write(end, &byte, 1)
}
