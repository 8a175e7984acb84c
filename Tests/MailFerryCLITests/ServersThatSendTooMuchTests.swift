import Foundation
import ServerFixtures
import Testing

/// Servers that send more than they should (docs/security.md, "Servers that send too
/// much"): the built `mailferry` runs against a scripted server on loopback, and its peak
/// resident memory (`ru_maxrss`) must stay under 100 MB while it errors out clearly or moves
/// the rest of the folder.
@Suite(.serialized) struct ServersThatSendTooMuchTests {
  static let memoryCeilingKiB = 100 * 1024

  struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
    /// The process's own peak resident memory in KiB, as GNU time reports it.
    let peakResidentKiB: Int
  }

  /// Runs the built binary (or `MAILFERRY_BINARY`) with the test password under GNU time
  /// (`scripts/install-test-deps` installs it). Not `wait4` from here: a child spawned with
  /// `posix_spawn` shares this process's memory until it execs, and its `ru_maxrss` starts
  /// from the test process's own peak.
  func runMailFerry(_ arguments: [String]) throws -> Run {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let binary =
      ProcessInfo.processInfo.environment["MAILFERRY_BINARY"]
      ?? root.appendingPathComponent(".build/debug/mailferry").path
    let work = NSTemporaryDirectory() + "mailferry-hostile-state-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let timeOutput = "\(work)/peak"
    let result = try Subprocess.run(
      ["/usr/bin/time", "-f", "%M", "-o", timeOutput, binary] + arguments,
      environment: ["MAILFERRY_PASSWORD": "secret", "XDG_STATE_HOME": "\(work)/state"], check: false)
    let reported = (try? String(contentsOfFile: timeOutput, encoding: .utf8)) ?? ""
    let peak = reported.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? .max
    print("mailferry \(arguments[0]): exit \(result.status), peak resident \(peak) KiB")
    return Run(status: result.status, stdout: result.stdout, stderr: result.stderr, peakResidentKiB: peak)
  }

  func temporaryDirectory() -> String {
    NSTemporaryDirectory() + "mailferry-too-much-\(UUID().uuidString)"
  }

  /// One CAPABILITY response of 300 literals of 1 MiB each: each literal is within the
  /// per-literal limit, the response is not.
  @Test func aCapabilityResponseOfManyLiteralsIsRefused() throws {
    let server = try ScriptedServer(
      script: HostileServerScripts.imap(greeting: "* OK hostile server ready") { tag, command, connection in
        guard command.uppercased().hasPrefix("CAPABILITY") else { return false }
        try connection.send("* CAPABILITY IMAP4rev1")
        for _ in 0..<300 {
          try connection.send(" {1048576}\r\n")
          try connection.send(repeating: "a", count: 1 << 20)
        }
        try connection.send("\r\n\(tag) OK done\r\n")
        return true
      })
    defer { server.stop() }
    let run = try runMailFerry(["probe", "imap://me@127.0.0.1:\(server.port)", "--allow-plaintext"])
    #expect(run.status == 69, "\(run.stdout)\(run.stderr)")
    #expect(run.stderr.contains("IMAP response larger than 8388608 bytes"), "\(run.stderr)")
    #expect(run.peakResidentKiB < Self.memoryCeilingKiB, "peak \(run.peakResidentKiB) KiB")
  }

  /// 300,000 alerts: the first few are shown, the rest counted.
  @Test func endlessAlertsAreCountedNotKept() throws {
    final class Once: @unchecked Sendable { var done = false }
    let once = Once()  // the test makes one connection
    let alert = "* OK [ALERT] " + String(repeating: "Your mailbox is almost full. ", count: 8) + "\r\n"
    let server = try ScriptedServer(
      script: HostileServerScripts.imap(greeting: "* OK hostile server ready") { tag, command, connection in
        guard command.uppercased().hasPrefix("CAPABILITY") else { return false }
        if !once.done { try connection.send(repeating: alert, count: alert.utf8.count * 300_000) }
        once.done = true
        try connection.send("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\n\(tag) OK done\r\n")
        return true
      })
    defer { server.stop() }
    let run = try runMailFerry(["probe", "imap://me@127.0.0.1:\(server.port)", "--allow-plaintext"])
    #expect(run.status == 0, "\(run.stderr)")
    let shown = run.stdout.split(separator: "\n").filter { $0.hasPrefix("Alert:") }
    #expect(shown.count == 21, "\(shown.count) alert lines")
    #expect(run.stdout.contains("(299980 more alerts not shown)"), "\(run.stdout.suffix(500))")
    #expect(run.peakResidentKiB < Self.memoryCeilingKiB, "peak \(run.peakResidentKiB) KiB")
  }

  /// A FETCH body of 200 MiB for a message listed with RFC822.SIZE 10, under --max-size:
  /// not stored, reported, and the next message is backed up.
  @Test func anIMAPBodyLargerThanAnnouncedIsCutOffAndTheRestMoves() throws {
    let huge = 200 << 20
    let second = HostileServerScripts.message(2)
    let server = try ScriptedServer(
      script: HostileServerScripts.imapMailbox([
        1: (
          10,
          { connection in
            try connection.send("{\(huge)}\r\n")
            try connection.send(repeating: "x", count: huge)
          }
        ),
        2: (second.utf8.count, { try $0.send("{\(second.utf8.count)}\r\n" + second) }),
      ]))
    defer { server.stop() }
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try runMailFerry([
      "backup", "imap://me@127.0.0.1:\(server.port)", "\(directory)/archive", "--allow-plaintext", "--max-size", "1000",
    ])
    #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
    #expect(
      (run.stdout + run.stderr).contains("the server sent \(huge) bytes for a message larger than --max-size"),
      "\(run.stdout)\(run.stderr)")
    #expect(run.peakResidentKiB < Self.memoryCeilingKiB, "peak \(run.peakResidentKiB) KiB")
    let found = try runMailFerry(["archive", "search", "\(directory)/archive", "--subject", "fine"])
    #expect(found.stdout.contains("fine 2"), "\(found.stdout)")
    #expect(!found.stdout.contains("1@hostile"), "\(found.stdout)")
  }

  /// Five messages of 60 MiB each that LIST gave as 100 bytes, in one batch, then a small
  /// one: the five are reported, the last is backed up.
  @Test func pop3MessagesLargerThanListedAreCutOffAndTheRestMoves() throws {
    let huge = 60 << 20
    let line = String(repeating: "y", count: 78) + "\r\n"
    let last = HostileServerScripts.message(6)
    var messages: [(listedSize: Int, send: @Sendable (ScriptedConnection) throws -> Void)] = Array(
      repeating: (100, { try $0.send(repeating: line, count: huge) }), count: 5)
    messages.append((last.utf8.count, { try $0.send(last) }))
    let server = try ScriptedServer(script: HostileServerScripts.pop3(messages))
    defer { server.stop() }
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try runMailFerry([
      "backup", "pop3://me@127.0.0.1:\(server.port)", "\(directory)/archive", "--allow-plaintext",
    ])
    #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
    #expect(
      (run.stdout + run.stderr).contains("the server sent \(huge) bytes for a message it listed as 100 bytes"),
      "\(run.stdout)\(run.stderr)")
    #expect(run.peakResidentKiB < Self.memoryCeilingKiB, "peak \(run.peakResidentKiB) KiB")
    let found = try runMailFerry(["archive", "search", "\(directory)/archive", "--subject", "fine"])
    #expect(found.stdout.contains("fine 6"), "\(found.stdout)")
  }

  /// Two messages of 48 MiB that LIST gave as 0 bytes (a server that does not say): no limit
  /// of their own, and spooled once the bytes received pass the threshold, so both are
  /// backed up byte for byte without being held in memory.
  @Test func pop3MessagesListedAsEmptyAreSpooledByTheBytesReceived() throws {
    let line = String(repeating: "z", count: 78) + "\r\n"
    let messages: [(listedSize: Int, send: @Sendable (ScriptedConnection) throws -> Void)] = [1, 2].map { number in
      (
        0,
        { connection in
          try connection.send("Subject: big \(number)\r\nMessage-ID: <big-\(number)@hostile.example>\r\n\r\n")
          try connection.send(repeating: line, count: line.utf8.count * (48 << 20 / line.utf8.count + 1))
        }
      )
    }
    let server = try ScriptedServer(script: HostileServerScripts.pop3(messages))
    defer { server.stop() }
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try runMailFerry([
      "backup", "pop3://me@127.0.0.1:\(server.port)", "\(directory)/archive", "--allow-plaintext",
    ])
    #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    print("mailferry backup of two 48 MiB POP3 messages listed as 0 bytes: peak resident \(run.peakResidentKiB) KiB")
    #expect(run.peakResidentKiB < LargeMessageTests.peakBoundKiB, "peak \(run.peakResidentKiB) KiB")
    let found = try runMailFerry(["archive", "search", "\(directory)/archive", "--subject", "big"])
    #expect(found.stdout.contains("big 1") && found.stdout.contains("big 2"), "\(found.stdout)")
  }

  /// A LIST that does not end (and a STAT of 4 billion messages): the session ends with a
  /// clear error at the line limit.
  @Test func anEndlessPOP3ListingIsRefused() throws {
    let server = try ScriptedServer { connection in
      try connection.send("+OK hostile POP3 ready\r\n")
      while true {
        let words = try connection.readLine().split(separator: " ")
        switch words.first?.uppercased() ?? "" {
        case "CAPA": try connection.send("+OK\r\nUSER\r\nUIDL\r\n.\r\n")
        case "STAT": try connection.send("+OK 4000000000 4000000000\r\n")
        case "LIST":
          try connection.send("+OK\r\n")
          // "Endless": three times the limit, then the connection drops (so that a client
          // without the limit ends too).
          for start in stride(from: 1, to: 3_000_000, by: 1000) {
            try connection.send((start..<start + 1000).map { "\($0) 100\r\n" }.joined())
          }
          return
        default: try connection.send("+OK\r\n")
        }
      }
    }
    defer { server.stop() }
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try runMailFerry([
      "backup", "pop3://me@127.0.0.1:\(server.port)", "\(directory)/archive", "--allow-plaintext",
    ])
    #expect(run.status != 0)
    #expect((run.stdout + run.stderr).contains("1000000 lines"), "\(run.stdout)\(run.stderr)")
    #expect(run.peakResidentKiB < Self.memoryCeilingKiB, "peak \(run.peakResidentKiB) KiB")
  }
}
