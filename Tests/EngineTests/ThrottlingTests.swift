import MailCore
import Testing

@testable import Engine

/// Backoff, the wait budget and the rate limiter, without a server and without sleeping
/// (scale 0 or arithmetic only).
@Suite struct ThrottlingTests {
  struct Throttled: UserFacingError {
    var suggestedDelay: Duration?
    var description: String { "h: NO [THROTTLED]" }
    var scope: FailureScope { .connection }
    var isTemporary: Bool { true }
    var isThrottling: Bool { true }
  }

  @Test func fullJitterStaysUnderTheDoublingCeilingAndTheCap() {
    let backoff = Backoff(policy: ThrottlePolicy())
    #expect(backoff.pause(attempt: 0, suggested: nil, random: 0) == .zero)
    #expect(backoff.pause(attempt: 0, suggested: nil, random: 0.5) == .milliseconds(500))
    #expect(backoff.pause(attempt: 3, suggested: nil, random: 0.5) == .seconds(4))
    // 2^20 s is far above the cap: the ceiling is the 5-minute cap.
    #expect(backoff.pause(attempt: 20, suggested: nil, random: 0.999_999) <= .seconds(300))
    #expect(backoff.pause(attempt: 20, suggested: nil, random: 0.5) == .seconds(150))
  }

  @Test func aServerSuggestedDelayIsHonouredAndEverythingScales() {
    var policy = ThrottlePolicy()
    #expect(Backoff(policy: policy).pause(attempt: 0, suggested: .seconds(30), random: 0.1) == .seconds(30))
    policy.scale = 0.01
    #expect(Backoff(policy: policy).pause(attempt: 0, suggested: .seconds(30), random: 0.1) == .milliseconds(300))
    #expect(Backoff(policy: policy).pause(attempt: 2, suggested: nil, random: 0.5) == .milliseconds(20))
  }

  @Test func theWaitBudgetRunsOutAndThenStopsTheJob() throws {
    var policy = ThrottlePolicy()
    policy.maxWait = .seconds(10)
    policy.scale = 0  // nothing is slept; the budget is counted in unscaled time below
    let waits = ThrottleWaits(policy: policy, random: { 0.5 })
    // With scale 0 the budget is 0 too: the first pause already finds it used up.
    #expect(throws: ThrottleBudgetExhausted.self) { try waits.pause(after: Throttled(), attempt: 0) }

    policy.scale = 0.001  // budget 10 ms; pauses 0.5 ms, 1 ms, 2 ms, 4 ms, … (random 0.5)
    let scaled = ThrottleWaits(policy: policy, random: { 0.5 })
    var pauses = 0
    do {
      for attempt in 0..<100 {
        try scaled.pause(after: Throttled(), attempt: attempt)
        pauses += 1
      }
      Issue.record("the budget never ran out")
    } catch let exhausted as ThrottleBudgetExhausted {
      #expect(exhausted.isTemporary && exhausted.scope == .job)
      #expect(exhausted.description.contains("--max-wait"))
    }
    #expect(pauses == scaled.totals.pauses)
    #expect(pauses >= 4 && pauses < 100)
    #expect(scaled.totals.throttleWait <= .milliseconds(10))
  }

  @Test func theRateLimiterLetsOneSecondsWorthThroughThenMakesTakersWaitInTurn() {
    let start = ContinuousClock.now
    let limiter = RateLimiter(RateLimit(amount: 10, unit: .messages), waits: nil, now: start)
    #expect(limiter.reserve(10, now: start) == .zero)
    #expect(limiter.reserve(5, now: start) == .milliseconds(500))
    // Another connection taking right after waits behind the first.
    #expect(limiter.reserve(5, now: start) == .seconds(1))
    // A second later the debt is paid; nothing is saved up beyond one second's worth.
    #expect(limiter.reserve(0, now: start + .seconds(1)) == .zero)
    #expect(limiter.reserve(10, now: start + .seconds(60)) == .zero)
    #expect(limiter.reserve(1, now: start + .seconds(60)) == .milliseconds(100))
  }
}
