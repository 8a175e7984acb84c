import Engine
import Foundation

/// Messages and bytes handled per second of a run, from its batch events, for the
/// report's throughput chart. One counter per second of the run: a day-long run keeps
/// 86,400 small entries.
final class ThroughputLog: @unchecked Sendable {
  struct Bin: Equatable {
    /// Seconds from the start of the run to the start of the bin.
    var start: Double
    var seconds: Double
    var messages: Int
    var bytes: Int
  }

  private let lock = NSLock()
  private let started = ContinuousClock.now
  private var messagesBySecond: [Int] = []
  private var bytesBySecond: [Int] = []

  func handle(_ event: MigrationEvent) {
    guard case .batchDone(_, let copied, let duplicates, let failed, let bytes) = event else { return }
    let second = Int((ContinuousClock.now - started).components.seconds)
    lock.withLock {
      while messagesBySecond.count <= second {
        messagesBySecond.append(0)
        bytesBySecond.append(0)
      }
      messagesBySecond[second] += copied + duplicates + failed
      bytesBySecond[second] += bytes
    }
  }

  /// The run cut into at most `count` equal bins of whole seconds, covering `duration`
  /// seconds (at least what was recorded).
  func bins(count: Int, duration: Double) -> [Bin] {
    let (messages, bytes) = lock.withLock { (messagesBySecond, bytesBySecond) }
    let seconds = max(messages.count, Int(duration.rounded(.up)), 1)
    let width = max(1, Int((Double(seconds) / Double(max(count, 1))).rounded(.up)))
    return stride(from: 0, to: seconds, by: width).map { start in
      let range = start..<min(start + width, seconds)
      let inRecord = range.clamped(to: 0..<messages.count)
      return Bin(
        start: Double(start), seconds: Double(range.count),
        messages: inRecord.reduce(0) { $0 + messages[$1] }, bytes: inRecord.reduce(0) { $0 + bytes[$1] })
    }
  }
}
