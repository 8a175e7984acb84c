import Foundation

/// A token bucket shared by all connections of a job (`--max-rate`): tokens (messages or
/// bytes) accrue at the rate up to one second's worth; taking more than there are puts the
/// bucket in debt, and the taker sleeps until the debt is paid. Callers are served in the
/// order they take, so connections share the rate fairly.
final class RateLimiter: @unchecked Sendable {
  private let lock = NSLock()
  private let limit: RateLimit
  private var tokens: Double
  private var updated: ContinuousClock.Instant
  private let waits: ThrottleWaits?

  init(_ limit: RateLimit, waits: ThrottleWaits?, now: ContinuousClock.Instant = .now) {
    self.limit = limit
    self.waits = waits
    tokens = limit.amount
    updated = now
  }

  /// How long a take of `amount` must wait, having taken it (pure arithmetic; no sleep).
  func reserve(_ amount: Double, now: ContinuousClock.Instant = .now) -> Duration {
    lock.withLock {
      let elapsed = Backoff.seconds(now - updated)
      updated = now
      tokens = min(limit.amount, tokens + elapsed * limit.amount) - amount
      guard tokens < 0 else { return .zero }
      return .nanoseconds(Int64(-tokens / limit.amount * 1e9))
    }
  }

  /// Takes what a batch of `messages` messages totalling `bytes` bytes costs, sleeping
  /// until the rate allows it.
  func take(messages: Int, bytes: Int, shouldStop: () -> Bool) {
    let wait = reserve(Double(limit.unit == .messages ? messages : bytes))
    guard wait > .zero else { return }
    waits?.addRateWait(wait)
    ThrottleWaits.sleep(wait, shouldStop: shouldStop)
  }
}
