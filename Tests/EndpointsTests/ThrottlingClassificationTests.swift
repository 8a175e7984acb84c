import IMAPCodec
import IMAPEndpoint
import MailCore
import POP3Codec
import POP3Endpoint
import SMTPCodec
import SMTPEndpoint
import Testing

/// Throttling answers, from transcripts of real providers' replies, are temporary and say
/// "this is throttling"; answers that are not stay as they were.
@Suite struct ThrottlingClassificationTests {
  /// The status of one IMAP response line (tagged, or an untagged BYE/NO).
  static func status(_ line: String) throws -> ResponseStatus {
    var parser = ResponseParser()
    let bytes = Array((line + "\r\n").utf8)
    let step = try bytes.withUnsafeBytes { try parser.parse($0) }
    switch step.event {
    case .response(.tagged(_, let status))?: return status
    case .response(.untagged(.status(let status)))?: return status
    default: throw ParseFailure()
    }
  }

  struct ParseFailure: Error {}

  static func imapFailure(_ line: String) throws -> IMAPError {
    let status = try status(line)
    return status.kind == .bye
      ? .serverClosed(peer: "h:993", text: status.text)
      : .commandFailed(peer: "h:993", command: "APPEND", status: status)
  }

  @Test(arguments: [
    "a1 NO [THROTTLED] Request is throttled. Suggested Backoff Time: 299961 milliseconds",
    "a2 NO Request is throttled. Suggested Backoff Time: 299609 milliseconds",  // Microsoft 365, no code
    "a3 BAD Request is throttled. Suggested Backoff Time: 178755 milliseconds",
    "a4 NO [UNAVAILABLE] Temporary failure, try again",
    "a5 NO Server Unavailable. 15",  // Microsoft 365
    "a6 NO [LIMIT] Too many commands",
    "a7 NO [INUSE] Mailbox in use",
    "a8 NO [ALERT] Account exceeded command or bandwidth limits. (Failure)",  // Gmail
    "a9 NO [ALERT] Too many simultaneous connections. (Failure)",  // Gmail
    "b1 BAD User is authenticated but not connected.",  // Microsoft 365 after a session limit
    "* BYE Connection closed. 14",  // Microsoft 365 shedding a session
    "* BYE Too many simultaneous connections",
  ])
  func imapThrottlingIsTemporaryAndThrottling(_ line: String) throws {
    let error = try Self.imapFailure(line)
    #expect(error.isThrottling, "\(line)")
    #expect(error.isTemporary)
    #expect(error.scope == .connection)
    #expect(isRetryableByTheEngine(error))
  }

  @Test(arguments: [
    "a1 NO [OVERQUOTA] Quota exceeded",
    "a2 NO [TRYCREATE] Mailbox doesn't exist",
    "a3 NO [CANNOT] Invalid mailbox name",
    "a4 BAD Error in IMAP command APPEND: Invalid arguments",
    "a5 NO [LIMIT] Mail size is too large",  // Dovecot, a message over its limit: refused for good
  ])
  func otherIMAPRefusalsAreNotThrottling(_ line: String) throws {
    let error = try Self.imapFailure(line)
    #expect(!error.isThrottling, "\(line)")
    #expect(!error.isTemporary)
  }

  @Test func microsoftsSuggestedBackoffIsTheSuggestedDelay() throws {
    let error = try Self.imapFailure("a1 NO Request is throttled. Suggested Backoff Time: 299961 milliseconds")
    #expect(error.suggestedDelay == .milliseconds(299_961))
    #expect(try Self.imapFailure("a2 NO [UNAVAILABLE] busy").suggestedDelay == nil)
  }

  @Test func aWrongPasswordStaysPermanentAndJobWide() {
    let error = IMAPError.authenticationFailed(peer: "h", user: "u", serverText: "[AUTHENTICATIONFAILED] Invalid")
    #expect(!error.isThrottling)
    #expect(!error.isTemporary)
    #expect(error.scope == .job)
  }

  // MARK: POP3

  @Test(arguments: [
    ("-ERR [IN-USE] Mailbox is locked by another session", "IN-USE"),
    ("-ERR [LOGIN-DELAY] Logins too frequent, wait 15 minutes", "LOGIN-DELAY"),
    ("-ERR [SYS/TEMP] Server busy", "SYS/TEMP"),
  ])
  func pop3ResponseCodesAreTemporaryAtLogin(_ line: String, _ code: String) throws {
    guard case .status(let status) = try POP3Reply.parse(Array(line.utf8)) else {
      Issue.record("not a status line")
      return
    }
    #expect(status.code == code)
    #expect(status.isTemporary)
    let error = POP3Error.mailboxBusy(peer: "h:995", serverText: status.text)
    #expect(error.isThrottling && error.isTemporary && error.scope == .connection)
  }

  @Test func loginDelayFromCAPAIsTheSuggestedDelay() {
    let error = POP3Error.mailboxBusy(peer: "h:995", serverText: "wait", loginDelay: .seconds(900))
    #expect(error.suggestedDelay == .seconds(900))
    #expect(!POP3Error.authenticationFailed(peer: "h", user: "u", serverText: "[AUTH] no").isThrottling)
  }

  // MARK: SMTP

  static func reply(_ line: String) throws -> SMTPReply {
    var reader = SMTPReplyReader()
    return try #require(try reader.feed(Array(line.utf8)))
  }

  @Test(arguments: [
    "421 4.7.0 Too many connections",
    "421 4.3.2 Service shutting down",
    "451 4.7.500 Server busy. Please try again later.",
    "451 4.3.0 Mail server temporarily rejected message.",
    "452 4.5.3 Too many recipients",
    "450 4.7.1 Too many messages, slow down",
    "454 4.7.0 Temporary authentication failure",
  ])
  func smtpThrottlingReplies(_ line: String) throws {
    let reply = try Self.reply(line)
    #expect(reply.isThrottling, "\(line)")
    let error = SMTPError.throttled(peer: "h:25", command: "MAIL FROM", reply: reply)
    #expect(error.isThrottling && error.isTemporary && error.scope == .connection)
    #expect(SMTPError.serviceUnavailable(peer: "h:25", reply: reply).isThrottling == true)
  }

  @Test(arguments: ["450 4.2.1 Mailbox busy", "550 5.7.1 Relaying denied", "554 5.7.0 Too many connections"])
  func otherSMTPRepliesAreNotThrottling(_ line: String) throws {
    #expect(!(try Self.reply(line)).isThrottling, "\(line)")
  }
}

/// What the engine asks of an error before retrying it (`Migration.isRetryable`), without
/// depending on the engine here.
private func isRetryableByTheEngine(_ error: any Error) -> Bool {
  ErrorClass.isTemporary(error) && ErrorClass.scope(of: error) != .job
}
