import Engine
import Testing

@testable import MailFerryCLI

/// `--max-rate` and `--max-wait`: what they accept, and the usage errors for the rest.
@Suite struct ThrottleOptionTests {
  @Test func maxRateTakesMessagesOrBytesPerSecond() {
    #expect(ThrottleOptions.parseRate("10") == RateLimit(amount: 10, unit: .messages))
    #expect(ThrottleOptions.parseRate("2.5/s") == RateLimit(amount: 2.5, unit: .messages))
    #expect(ThrottleOptions.parseRate("2MB/s") == RateLimit(amount: 2 * 1_048_576, unit: .bytes))
    #expect(ThrottleOptions.parseRate("500kb/s") == RateLimit(amount: 500 * 1024, unit: .bytes))
    #expect(ThrottleOptions.parseRate("800B/s") == RateLimit(amount: 800, unit: .bytes))
    for wrong in ["", "0", "-3", "fast", "2MB", "2 MB/s", "3/m", "1TB/s", "/s", "nan"] {
      #expect(ThrottleOptions.parseRate(wrong) == nil, "\(wrong)")
    }
  }

  @Test func badValuesAreUsageErrorsNamingTheOption() {
    let rate = CapturedRun(["migrate", "maildir:/nonexistent", "maildir:/nonexistent2", "--max-rate", "2MB"])
    #expect(rate.status == .usage)
    #expect(rate.err.contains("option '--max-rate' takes messages per second"), "\(rate.err)")
    let wait = CapturedRun(["migrate", "maildir:/nonexistent", "maildir:/nonexistent2", "--max-wait", "soon"])
    #expect(wait.status == .usage)
    #expect(wait.err.contains("option '--max-wait' takes a number of seconds, not 'soon'"), "\(wait.err)")
  }

  @Test func theReportLineSaysWhatWasWaited() {
    var waits = WaitSummary()
    #expect(ReportTable.waitsLine(waits) == nil)
    waits.pauses = 3
    waits.throttleWait = .milliseconds(12_500)
    waits.rateLimitWait = .seconds(4)
    #expect(ReportTable.waitsLine(waits) == "waited: 3 throttling pauses, 12.5 s; 4.0 s held back by --max-rate")
  }
}
