import Foundation
import ServerFixtures
import Testing

/// Text a server chooses (its greeting, alerts, the reason it gives for a refusal) reaches
/// the terminal only with its control characters escaped: an ESC or OSC sequence from a
/// server could otherwise retitle the window, clear the screen or hide what is shown.
@Suite struct HostileServerTextTests {
  static let hostile = "\u{1B}]0;owned\u{07}\u{1B}[2J\u{9B}31m\u{7F}"
  static let shown = "\\x1B]0;owned\\x07\\x1B[2J"

  func expectEscaped(_ run: CapturedRun) {
    let text = run.out + run.err
    #expect(!text.unicodeScalars.contains { [0x1B, 0x07, 0x9B, 0x7F].contains($0.value) }, "\(text)")
    #expect(text.contains(Self.shown), "\(text)")
  }

  func passwordFile() throws -> String {
    let path = NSTemporaryDirectory() + "mailferry-text-\(UUID().uuidString).pw"
    try Data("secret\n".utf8).write(to: URL(fileURLWithPath: path))
    chmod(path, 0o600)
    return path
  }

  @Test func anIMAPGreetingAndRefusalAreShownEscaped() throws {
    let server = try ScriptedServer(
      script: HostileServerScripts.imap(
        greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] ready \(Self.hostile)"
      ) { tag, command, connection in
        guard command.uppercased().hasPrefix("AUTHENTICATE") || command.uppercased().hasPrefix("LOGIN") else {
          return false
        }
        try connection.send("\(tag) NO [AUTHENTICATIONFAILED] denied \(Self.hostile)\r\n")
        return true
      })
    defer { server.stop() }
    let password = try passwordFile()
    defer { try? FileManager.default.removeItem(atPath: password) }
    let run = CapturedRun([
      "probe", "imap://me@127.0.0.1:\(server.port)", "--allow-plaintext", "--password-file", password,
    ])
    #expect(run.status != .success)
    #expect(run.out.contains("ready \(Self.shown)"), "the greeting: \(run.out)")
    expectEscaped(run)
  }

  @Test func anSMTPGreetingAndRefusalAreShownEscaped() throws {
    let server = try ScriptedServer { connection in
      try connection.send("220 mx.hostile.example ESMTP \(Self.hostile)\r\n")
      while true {
        let command = try connection.readLine().uppercased()
        if command.hasPrefix("EHLO") {
          try connection.send("250-mx.hostile.example\r\n250 AUTH PLAIN\r\n")
        } else if command.hasPrefix("QUIT") {
          try connection.send("221 bye\r\n")
          return
        } else {
          try connection.send("535 5.7.8 denied \(Self.hostile)\r\n")
        }
      }
    }
    defer { server.stop() }
    let password = try passwordFile()
    defer { try? FileManager.default.removeItem(atPath: password) }
    let run = CapturedRun([
      "probe", "smtp://me@127.0.0.1:\(server.port)", "--allow-plaintext", "--password-file", password,
    ])
    expectEscaped(run)
  }
}
