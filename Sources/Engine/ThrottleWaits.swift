import Foundation
import MailCore

/// The job's throttling pauses and rate-limit waits, shared by every worker: it sleeps the
/// backoff a throttling error calls for while the `--max-wait` budget lasts, and counts
/// what was waited for the report.
public final class ThrottleWaits: @unchecked Sendable {
  private let lock = NSLock()
  private let backoff: Backoff
  private let random: @Sendable () -> Double
  private var summary = WaitSummary()

  /// `random` gives numbers in [0, 1) for the jitter.
  public init(policy: ThrottlePolicy, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
    backoff = Backoff(policy: policy)
    self.random = random
  }

  public var totals: WaitSummary { lock.withLock { summary } }

  /// Waits out a throttling error: the backoff for the `attempt`-th pause in a row, or what
  /// the server suggested, cut to the budget left; `announce` hears the pause before it
  /// starts. Throws `ThrottleBudgetExhausted` when no budget is left; returns early when
  /// `shouldStop` becomes true.
  public func pause(
    after error: any Error, attempt: Int, shouldStop: () -> Bool = { false }, announce: (Duration) -> Void = { _ in }
  ) throws {
    let pause: Duration = try lock.withLock {
      let budget = backoff.policy.maxWait * backoff.policy.scale
      guard summary.throttleWait < budget else {
        throw ThrottleBudgetExhausted(
          waited: summary.throttleWait, pauses: summary.pauses, lastError: String(describing: error))
      }
      let wanted = backoff.pause(
        attempt: attempt, suggested: ErrorClass.suggestedDelay(of: error),
        random: random())
      let pause = min(wanted, budget - summary.throttleWait)
      summary.pauses += 1
      summary.throttleWait += pause
      return pause
    }
    announce(pause)
    Self.sleep(pause, shouldStop: shouldStop)
  }

  /// Records time spent waiting for the rate limiter.
  func addRateWait(_ duration: Duration) { lock.withLock { summary.rateLimitWait += duration } }

  /// Sleeps in short slices, so a stop request is seen within 50 ms.
  static func sleep(_ duration: Duration, shouldStop: () -> Bool) {
    let end = ContinuousClock.now + duration
    while !shouldStop() {
      let left = end - ContinuousClock.now
      guard left > .zero else { return }
      Thread.sleep(forTimeInterval: Backoff.seconds(min(left, .milliseconds(50))))
    }
  }
}

/// What a job waited: throttling pauses and their total, and time held back by `--max-rate`.
public struct WaitSummary: Sendable, Equatable {
  public var pauses = 0
  public var throttleWait: Duration = .zero
  public var rateLimitWait: Duration = .zero

  public init() {}

  public var throttleSeconds: Double { Backoff.seconds(throttleWait) }
  public var rateLimitSeconds: Double { Backoff.seconds(rateLimitWait) }
}

/// Servers throttled the job for longer than `--max-wait` allows: it stops with its
/// checkpoint saved, to be run again later.
public struct ThrottleBudgetExhausted: UserFacingError, Equatable {
  public let waited: Duration
  public let pauses: Int
  public let lastError: String

  public var description: String {
    "stopped: the servers kept throttling the job (\(pauses) pauses, "
      + "\(Int(Backoff.seconds(waited).rounded())) s waited, the --max-wait budget); last answer: \(lastError)"
  }
  public var hint: String? {
    "what was copied is kept; run the same command again later (or raise --max-wait, lower --connections, set --max-rate)"
  }
  public var scope: FailureScope { .job }
  public var isTemporary: Bool { true }
  public var kind: FailureKind { .tryLater }
}
