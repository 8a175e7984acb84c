import Foundation
import Testing

@testable import MailFerryCLI

/// What a careless or hostile command line, server or message must not get printed or
/// passed on.
@Suite struct HostileInputTests {
  @Test func aPasswordInAURLIsNeverPrinted() {
    for url in [
      "imaps://u:TopSecret@", "imaps://u:TopSecret@host", "imaps://u:TopSecret@host:99999", "imaps://u:TopSecret",
      "imaps://u:Top%20Secret@h/x", "imaps://u:Top Secret@h", "pop3s://a%40b:TopSecret@h", "nosuch://u:TopSecret@h",
    ] {
      let run = CapturedRun(["probe", url])
      #expect(run.status != .success)
      #expect(!(run.out + run.err).contains("TopSecret"), "\(url): \(run.err)")
      #expect(!(run.out + run.err).contains("Top%20Secret"), "\(url): \(run.err)")
    }
    #expect(ServerURL.redacted("imaps://u:pw@h:993/INBOX") == "imaps://u:<redacted>@h:993/INBOX")
    #expect(ServerURL.redacted("imaps://u@h:993/a:b@c") == "imaps://u@h:993/a:b@c")
    #expect(ServerURL.redacted("imaps://[::1]:993") == "imaps://[::1]:993")
  }

  @Test func absurdNumbersAreUsageErrorsNotCrashes() {
    for value in ["1e300", "inf", "nan", "-1", "0", "86401"] {
      let run = CapturedRun(["probe", "imaps://u@127.0.0.1:1", "--timeout", value])
      #expect(run.status == .usage, "--timeout \(value): \(run.err)")
      #expect(run.err.contains("--timeout"))
    }
  }
}
