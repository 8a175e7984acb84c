import Foundation
import ServerFixtures
import Testing

/// More servers that send too much: a POP3 server whose CAPA never ends, and an IMAP
/// target that sends a copy of normal size once and 200 MiB when `verify` reads it again.
extension ServersThatSendTooMuchTests {
  /// Capability lines are kept; a server listing hundreds of thousands of them (each
  /// different, 1 KiB long) is refused after a thousand.
  @Test func aPOP3CapabilityFloodIsRefused() throws {
    let server = try ScriptedServer { connection in
      try connection.send("+OK hostile POP3 ready\r\n")
      while true {
        let command = try connection.readLine().uppercased()
        guard command.hasPrefix("CAPA") else {
          try connection.send(command.hasPrefix("QUIT") ? "+OK bye\r\n" : "+OK\r\n")
          continue
        }
        try connection.send("+OK\r\nUSER\r\nUIDL\r\n")
        let filler = String(repeating: "a", count: 1000)
        for start in stride(from: 0, to: 300_000, by: 1000) {
          try connection.send((start..<start + 1000).map { "X\($0) \(filler)\r\n" }.joined())
        }
        try connection.send(".\r\n")
      }
    }
    defer { server.stop() }
    let run = try runMailFerry(["probe", "pop3://me@127.0.0.1:\(server.port)", "--allow-plaintext"])
    #expect(run.status != 0, "\(run.stdout)\(run.stderr)")
    #expect((run.stdout + run.stderr).contains("1000 lines"), "\(run.stdout)\(run.stderr)")
    #expect(run.peakResidentKiB < Self.memoryCeilingKiB, "peak \(run.peakResidentKiB) KiB")
  }

  /// Unique ids are kept for the whole maildrop; 300,000 of 1 KiB each are refused once
  /// they pass the budget for them.
  @Test func aPOP3UniqueIDFloodIsRefused() throws {
    let count = 300_000
    let server = try ScriptedServer { connection in
      try connection.send("+OK hostile POP3 ready\r\n")
      while true {
        let command = try connection.readLine().uppercased()
        if command.hasPrefix("CAPA") {
          try connection.send("+OK\r\nUSER\r\nUIDL\r\n.\r\n")
        } else if command.hasPrefix("STAT") {
          try connection.send("+OK \(count) \(count * 100)\r\n")
        } else if command.hasPrefix("LIST") || command.hasPrefix("UIDL") {
          let filler = command.hasPrefix("UIDL") ? String(repeating: "u", count: 1000) : "100"
          try connection.send("+OK\r\n")
          for start in stride(from: 1, to: count + 1, by: 1000) {
            try connection.send((start..<start + 1000).map { "\($0) \($0)\(filler)\r\n" }.joined())
          }
          try connection.send(".\r\n")
        } else {
          try connection.send(command.hasPrefix("QUIT") ? "+OK bye\r\n" : "+OK\r\n")
        }
      }
    }
    defer { server.stop() }
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let run = try runMailFerry([
      "backup", "pop3://me@127.0.0.1:\(server.port)", "\(directory)/archive", "--allow-plaintext",
    ])
    #expect(run.status != 0, "\(run.stdout)\(run.stderr)")
    #expect((run.stdout + run.stderr).contains("bytes of unique ids"), "\(run.stdout)\(run.stderr)")
    #expect(run.peakResidentKiB < Self.memoryCeilingKiB, "peak \(run.peakResidentKiB) KiB")
  }

  /// `verify` pairs a copy the target altered by Message-ID and reads both again to show
  /// where they differ: the second read is held to the size of the first.
  @Test func verifyRereadsAnAlteredCopyWithinItsSize() throws {
    final class Reads: @unchecked Sendable { var count = 0 }
    let reads = Reads()
    let huge = 200 << 20
    let original = HostileServerScripts.message(1)
    let altered = original.replacingOccurrences(of: "Hello.", with: "Howdy.")
    let server = try ScriptedServer(
      script: HostileServerScripts.imapMailbox([
        1: (
          altered.utf8.count,
          { connection in
            reads.count += 1
            if reads.count == 1 {
              try connection.send("{\(altered.utf8.count)}\r\n" + altered)
            } else {
              try connection.send("{\(huge)}\r\n")
              try connection.send(repeating: "z", count: huge)
            }
          }
        )
      ]))
    defer { server.stop() }
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createDirectory(atPath: "\(directory)/mbox", withIntermediateDirectories: true)
    try Data(("From a@hostile.example Mon Jan  1 10:00:00 2024\r\n" + original).utf8).write(
      to: URL(fileURLWithPath: "\(directory)/mbox/INBOX"))
    let run = try runMailFerry([
      "verify", "mbox:\(directory)/mbox", "imap://me@127.0.0.1:\(server.port)", "--allow-plaintext",
    ])
    #expect(reads.count == 2, "the altered copy was read again")
    #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
    #expect((run.stdout + run.stderr).contains("was altered"), "\(run.stdout)\(run.stderr)")
    #expect(run.peakResidentKiB < Self.memoryCeilingKiB, "peak \(run.peakResidentKiB) KiB")
  }
}

extension ServersThatSendTooMuchTests {
  /// A target that takes the message (APPENDUID), reports its stored copy with another
  /// size, and then sends 200 MiB when MailFerry reads the copy to show where it differs:
  /// that read is held to about the size sent.
  @Test func aTargetThatInflatesTheCopyReadBackIsHeldToTheSizeSent() throws {
    let huge = 200 << 20
    let message = HostileServerScripts.message(1)
    let server = try ScriptedServer(
      script: HostileServerScripts.imap(
        greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR LITERAL+ UIDPLUS] hostile target ready"
      ) { tag, command, connection in
        let upper = command.uppercased()
        if upper.hasPrefix("LIST") {
          try connection.send("* LIST (\\HasNoChildren) \"/\" INBOX\r\n\(tag) OK listed\r\n")
        } else if upper.hasPrefix("SELECT") || upper.hasPrefix("EXAMINE") {
          try connection.send(
            "* 0 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 1] ok\r\n\(tag) OK [READ-WRITE] done\r\n")
        } else if upper.hasPrefix("UID SEARCH") {
          try connection.send("* SEARCH\r\n\(tag) OK searched\r\n")
        } else if upper.hasPrefix("APPEND") {
          guard let open = command.lastIndex(of: "{"), let size = Int(command[open...].filter(\.isNumber)) else {
            return false
          }
          if !command.hasSuffix("+}") { try connection.send("+ go on\r\n") }
          _ = try connection.readBytes(size)
          _ = try connection.readLine()  // the end of the APPEND command
          try connection.send("\(tag) OK [APPENDUID 7 1] stored\r\n")
        } else if upper.hasPrefix("UID FETCH") && upper.contains("BODY.PEEK[]") {
          try connection.send("* 1 FETCH (UID 1 BODY[] {\(huge)}\r\n")
          try connection.send(repeating: "z", count: huge)
          try connection.send(")\r\n\(tag) OK fetched\r\n")
        } else if upper.hasPrefix("UID FETCH") {
          let header = "Message-ID: <1@hostile.example>\r\n\r\n"
          try connection.send(
            "* 1 FETCH (UID 1 RFC822.SIZE 10 BODY[HEADER] {\(header.utf8.count)}\r\n\(header))\r\n\(tag) OK fetched\r\n"
          )
        } else {
          return false
        }
        return true
      })
    defer { server.stop() }
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createDirectory(atPath: "\(directory)/mbox", withIntermediateDirectories: true)
    try Data(("From a@hostile.example Mon Jan  1 10:00:00 2024\r\n" + message).utf8).write(
      to: URL(fileURLWithPath: "\(directory)/mbox/INBOX"))
    let run = try runMailFerry([
      "migrate", "mbox:\(directory)/mbox", "imap://me@127.0.0.1:\(server.port)", "--allow-plaintext",
      "--state", "\(directory)/job.sqlite",
    ])
    #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
    #expect((run.stdout + run.stderr).contains("size 10 bytes"), "\(run.stdout)\(run.stderr)")
    #expect(run.peakResidentKiB < Self.memoryCeilingKiB, "peak \(run.peakResidentKiB) KiB")
  }
}
