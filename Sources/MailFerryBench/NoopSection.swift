import Foundation
import ServerFixtures

/// A large account checked again with nothing changed: `messages` small messages in four
/// folders, copied once by the command line (its defaults), then the same job again, with
/// the peak memory of both runs next to the 10,000-message run's, so growth with the
/// account shows; mbsync's first run and rerun beside it up to 20,000 messages, or with
/// `withMbsync` (its first copy runs at about 170 small messages a second here). imapsync
/// is left out: its first copy of 100,000 messages takes about twenty minutes.
@MainActor func runNoopSection(
  server: DovecotServer, targetServer: DovecotServer, messages: Int, smallerRun: (messages: Int, peakKB: Int)?,
  withMbsync: Bool
) throws {
  let source = try BenchSource.populate(
    "noop", server: server, folders: ["INBOX", "Archive", "Lists/a", "Lists/b"], count: messages, batchCount: 1000,
    message: tinyMessage(number:))
  print("")
  print("a \(messages)-message account copied once, then checked again with nothing changed:")
  let job = try CommandLineMigration(
    source: source, target: try CopyTarget(server: targetServer, prefix: "noop"), extra: [])
  defer { job.remove() }
  if var first = try job.run() {
    first.correctness = source.verify(copyOn: targetServer, user: job.target.user)
    first.print("mailferry CLI, defaults, first run")
    if let again = try job.run() {
      print(
        "mailferry CLI, defaults, no-op rerun".padding(toLength: 46, withPad: " ", startingAt: 0)
          + String(format: "%6.2f s (goal < 3 s)", again.seconds)
          + (again.peakKB.map { String(format: ", peak %.0f MB", Double($0) / 1024) } ?? ""))
      let peaks = [
        ("\(smallerRun?.messages ?? 0)-message run", smallerRun?.peakKB), ("first run", first.peakKB),
        ("no-op", again.peakKB),
      ]
      .compactMap { name, kb in kb.map { name + String(format: " %.0f MB", Double($0) / 1024) } }
      print("peak memory of the CLI: " + peaks.joined(separator: ", "))
    }
  }
  let mbsyncTarget = try CopyTarget(server: targetServer, prefix: "noopmb")
  if messages > 20_000 && !withMbsync {
    print("peer: mbsync not run here above 20,000 messages (about 10 minutes for 100,000; --noop-mbsync 1 runs it)")
  } else if let outcome = try migrateWithMbsync(source, into: mbsyncTarget) {
    outcome.first.print("peer: mbsync IMAP to IMAP, first run")
    if let again = outcome.rerunSeconds {
      print(
        "peer: mbsync, no-op rerun".padding(toLength: 46, withPad: " ", startingAt: 0)
          + String(format: "%6.2f s", again))
    }
  }
  print("peer: imapsync not run here (its first copy of an account this size takes about 20 minutes)")
}

/// A small message (about 600 bytes) for the large account.
private func tinyMessage(number: Int) -> [UInt8] {
  Array(
    """
    From: Sender \(number % 300) <sender\(number % 300)@example.org>\r
    To: Bob <bob@example.net>\r
    Subject: notification \(number)\r
    Date: Thu, 7 Mar 2024 10:\(10 + number % 50):00 +0100\r
    Message-ID: <tiny.\(number)@example.org>\r
    \r
    Build \(number) finished. Nothing to do; this message only makes the account large.\r

    """.utf8)
}
