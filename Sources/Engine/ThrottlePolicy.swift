import MailCore

/// How a job behaves when servers throttle it, and the rate it holds itself to.
public struct ThrottlePolicy: Sendable, Equatable {
  /// The most the job waits in throttling pauses, all connections together (`--max-wait`);
  /// when it is used up the job stops as temporary, to be run again later.
  public var maxWait: Duration = .seconds(1800)
  /// The first pause's upper bound; each further pause in a row doubles it, up to `pauseCap`.
  public var firstPause: Duration = .seconds(1)
  public var pauseCap: Duration = .seconds(300)
  /// Multiplies every pause (and a server's suggested delay, and the pause before a
  /// reconnect); for tests only
  /// (`MAILFERRY_BACKOFF_SCALE`), so they need not wait real seconds.
  public var scale: Double = 1
  /// The job's own cap on what it moves per second (`--max-rate`), shared by all connections.
  public var maxRate: RateLimit?

  public init() {}
}

/// `--max-rate`: messages or bytes per second.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
  public enum Unit: String, Sendable { case messages, bytes }
  public var amount: Double
  public var unit: Unit

  public init(amount: Double, unit: Unit) {
    self.amount = amount
    self.unit = unit
  }

  public var description: String {
    unit == .messages ? "\(amount) messages/s" : "\(ByteCountText.human(UInt64(amount)))/s"
  }
}
