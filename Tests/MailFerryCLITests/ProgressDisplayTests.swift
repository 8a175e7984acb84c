import Testing

@testable import MailFerryCLI

@Suite struct ProgressDisplayTests {
  @Test func theLineShowsCountsRatesETAAndActiveFolders() {
    let line = ProgressDisplay.line(
      handled: 50, estimate: 200, bytes: 5 << 20, elapsed: 10,
      active: [("INBOX", 40, 120), ("Sent", 10, 60), ("Lists", 0, 20)])
    #expect(line == "50/200 messages · 5.0 MiB · 5 msg/s · 512.0 KiB/s · ETA 0:30 · INBOX 40/120, Sent 10/60 +1")
  }

  @Test func noRateBeforeTheFirstSecondAndNeverLessThanDone() {
    #expect(
      ProgressDisplay.line(handled: 3, estimate: 0, bytes: 900, elapsed: 0.5, active: []) == "3/3 messages · 900 B")
  }

  @Test func longETAsShowHours() {
    #expect(ProgressDisplay.duration(3 * 3600 + 25 * 60 + 7) == "3:25:07")
    #expect(ProgressDisplay.duration(59.6) == "1:00")
  }
}
