import Engine
import Foundation
import MailCore

/// The live progress line of `migrate` on a terminal: messages and bytes done against the
/// estimate, rate, ETA and the folders being copied. Events arrive from worker threads;
/// the line is redrawn at most five times a second. Per folder it shows the folders being
/// copied with their own counts.
final class ProgressDisplay: @unchecked Sendable {
  private let console: Console
  private let lock = NSLock()
  private let started = ContinuousClock.now
  private var lastDrawn: ContinuousClock.Instant?
  private var estimate = 0
  /// Per folder: the estimate from planning until the folder says how much it has to do.
  private var remainingByFolder: [String: Int] = [:]
  private var handled = 0
  private var bytes = 0
  /// Folders being copied, in the order they started, with messages handled and to do.
  private var active: [(name: String, handled: Int, toDo: Int)] = []

  init(console: Console) { self.console = console }

  func handle(_ event: MigrationEvent) {
    lock.withLock {
      switch event {
      case .planned(_, let estimates):
        remainingByFolder = estimates
        estimate = estimates.values.reduce(0, +)
      case .folderStarted(let source, _, let toDo, _):
        estimate += toDo - (remainingByFolder[source] ?? 0)
        remainingByFolder[source] = toDo
        active.append((source, 0, toDo))
      case .batchDone(let source, let copied, let duplicates, let failed, let batchBytes):
        handled += copied + duplicates + failed
        bytes += batchBytes
        if let index = active.firstIndex(where: { $0.name == source }) {
          active[index].handled += copied + duplicates + failed
        }
      case .folderFinished(let report):
        active.removeAll { $0.name == report.source }
      case .reconnecting, .throttled, .refused, .altered: break
      }
    }
    draw(force: false)
  }

  func finish() { console.endProgress() }

  private func draw(force: Bool) {
    let line: String? = lock.withLock {
      let now = ContinuousClock.now
      if !force, let lastDrawn, now - lastDrawn < .milliseconds(200) { return nil }
      lastDrawn = now
      return Self.line(
        handled: handled, estimate: estimate, bytes: bytes, elapsed: Self.seconds(now - started), active: active)
    }
    if let line { console.progress(line) }
  }

  static func line(
    handled: Int, estimate: Int, bytes: Int, elapsed: Double, active: [(name: String, handled: Int, toDo: Int)]
  ) -> String {
    let total = max(estimate, handled)
    var parts = ["\(handled)/\(total) messages", ByteCountText.human(UInt64(bytes))]
    if elapsed >= 1 && handled > 0 {
      let rate = Double(handled) / elapsed
      parts.append(String(format: "%.0f msg/s", rate))
      parts.append(ByteCountText.human(UInt64(Double(bytes) / elapsed)) + "/s")
      parts.append("ETA " + duration(Double(total - handled) / rate))
    }
    if !active.isEmpty {
      let shown = active.prefix(2).map { "\($0.name) \($0.handled)/\($0.toDo)" }.joined(separator: ", ")
      parts.append(active.count > 2 ? "\(shown) +\(active.count - 2)" : shown)
    }
    return parts.joined(separator: " · ")
  }

  static func duration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total >= 3600 { return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) }
    return String(format: "%d:%02d", total / 60, total % 60)
  }

  private static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }
}
