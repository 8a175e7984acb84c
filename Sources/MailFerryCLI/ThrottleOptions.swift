import Engine
import Foundation

/// `--max-wait` and `--max-rate`: how long a job waits out throttling servers, and the rate
/// it holds itself to. `MAILFERRY_BACKOFF_SCALE` (for tests only) shortens every pause.
enum ThrottleOptions {
  static let options: [CommandSpec.Option] = [
    .init(
      name: "max-wait", valueName: "SECONDS",
      help: "Wait at most this long in all for throttling servers, then stop to be run later (default 1800)."),
    .init(
      name: "max-rate", valueName: "N[/s]|SIZE/s",
      help: "Move at most N messages (or SIZE bytes: 500KB/s, 2MB/s) per second, all connections together."),
  ]

  static func read(_ arguments: ParsedArguments, into options: inout MigrationOptions, command: String) throws {
    if let text = arguments.value("max-wait") {
      guard let seconds = Int(text), seconds >= 0 else {
        throw UsageError(command: command, message: "option '--max-wait' takes a number of seconds, not '\(text)'")
      }
      options.throttling.maxWait = .seconds(seconds)
    }
    if let text = arguments.value("max-rate") {
      guard let rate = parseRate(text) else {
        throw UsageError(
          command: command,
          message: "option '--max-rate' takes messages per second (10, 2.5/s) or bytes per second (500KB/s, 2MB/s), "
            + "not '\(text)'")
      }
      options.throttling.maxRate = rate
    }
    if let text = ProcessInfo.processInfo.environment["MAILFERRY_BACKOFF_SCALE"], let scale = Double(text),
      scale >= 0
    {
      options.throttling.scale = scale
    }
  }

  /// `10`, `10/s`, `2.5/s`: messages per second; `800B/s`, `500KB/s`, `2MB/s`, `1GB/s`
  /// (powers of 1024): bytes per second. Nil for anything else, or for zero.
  static func parseRate(_ text: String) -> RateLimit? {
    var body = Substring(text.trimmingCharacters(in: .whitespaces))
    let perSecond = body.lowercased().hasSuffix("/s")
    if perSecond { body = body.dropLast(2) }
    let digits = body.prefix { $0.isNumber || $0 == "." }
    let suffix = body.dropFirst(digits.count).uppercased()
    guard let amount = Double(digits), amount > 0, amount.isFinite else { return nil }
    let multipliers: [String: Double] = ["B": 1, "KB": 1024, "MB": 1_048_576, "GB": 1_073_741_824]
    if suffix.isEmpty { return RateLimit(amount: amount, unit: .messages) }
    guard perSecond, let multiplier = multipliers[suffix] else { return nil }
    return RateLimit(amount: amount * multiplier, unit: .bytes)
  }
}
