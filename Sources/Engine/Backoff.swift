/// Exponential backoff with full jitter: the pause before the `attempt`-th retry in a row
/// (0 for the first) is uniform in [0, min(cap, first × 2^attempt)], never shorter than
/// what the server asked for, then scaled. Pure: the random number is passed in.
public struct Backoff: Sendable, Equatable {
  public var policy: ThrottlePolicy

  public init(policy: ThrottlePolicy) { self.policy = policy }

  /// `random` is in [0, 1).
  public func pause(attempt: Int, suggested: Duration?, random: Double) -> Duration {
    let first = Self.seconds(policy.firstPause)
    let cap = Self.seconds(policy.pauseCap)
    let ceiling = min(cap, first * Double(1 << min(max(attempt, 0), 30)))
    var seconds = ceiling * min(max(random, 0), 1)
    if let suggested { seconds = max(seconds, Self.seconds(suggested)) }
    return .nanoseconds(Int64(seconds * policy.scale * 1e9))
  }

  static func seconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
