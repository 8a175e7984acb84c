import Foundation
import IMAPEndpoint
import POP3Endpoint
import SMTPEndpoint
import ServerFixtures
import Testing
import Transport

/// A server that sends a byte now and then never lets a single read time out; the overall
/// deadline of a response (`Connection.beginResponse`) ends the session instead.
@Suite(.timeLimit(.minutes(1))) struct SlowServerTests {
  /// Each read waits at most this long; a byte comes every 100 ms.
  static let timeout = Duration.milliseconds(400)

  /// Runs `connect` against a server that dribbles; expects `responseTooSlow` within the
  /// response deadline (5 × 0.4 s) plus slack, never a hang.
  func expectTooSlow(_ opening: String, _ dribble: String, _ connect: (Int) throws -> Void) throws {
    let server = try DribblingServer(opening: opening, dribble: dribble)
    defer { server.stop() }
    let started = ContinuousClock.now
    do {
      try connect(server.port)
      Issue.record("a session with a dribbling server completed")
    } catch let error as TransportError {
      guard case .responseTooSlow = error else {
        Issue.record("unexpected error: \(error)")
        return
      }
      #expect(error.description.contains("response was not complete after 2"), "\(error.description)")
    }
    #expect(ContinuousClock.now - started < .seconds(10))
  }

  @Test func imapGreetingThatNeverEnds() throws {
    try expectTooSlow("* OK ", "x") { port in
      _ = try IMAPClient.connect(
        IMAPAccount(host: "127.0.0.1", port: port, user: "u", security: .startTLS, timeout: Self.timeout))
    }
  }

  @Test func imapLiteralThatNeverEnds() throws {
    // A greeting with a literal announced but sent a byte at a time.
    try expectTooSlow("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n* 1 FETCH (BODY[] {100000}\r\n", "y") { port in
      _ = try IMAPClient.connect(
        IMAPAccount(host: "127.0.0.1", port: port, user: "u", security: .startTLS, timeout: Self.timeout))
    }
  }

  @Test func pop3GreetingThatNeverEnds() throws {
    try expectTooSlow("+OK ", "x") { port in
      _ = try POP3Client.connect(
        POP3Account(host: "127.0.0.1", port: port, user: "u", security: .startTLS, timeout: Self.timeout))
    }
  }

  @Test func smtpGreetingThatNeverEnds() throws {
    // A multi-line greeting whose lines never stop coming.
    try expectTooSlow("220-hello\r\n", "220-more\r\n") { port in
      _ = try SMTPClient.connect(
        SMTPAccount(dialect: .smtp, host: "127.0.0.1", port: port, security: .startTLS, timeout: Self.timeout))
    }
  }
}
