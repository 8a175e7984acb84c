import Archive
import Checkpoint
import Engine
import Foundation
import IMAPCodec
import IMAPEndpoint
import LocalEndpoint
import MailCore
import Mailstore
import POP3Codec
import POP3Endpoint
import SMTPCodec
import SMTPEndpoint
import Storage
import Testing
import Transport

@testable import MailFerryCLI

/// Every error type says how far it reaches and whether running again can help, and the
/// hints follow: a permanent failure never tells the user to run the same command again.
@Suite struct ErrorScopeTests {
  static let permanent: [any UserFacingError] = [
    TransportError.certificateUntrusted(peer: "h:993", subject: "CN=h", reason: "self-signed"),
    TransportError.hostNotFound(host: "nowhere.invalid", reason: "no such host"),
    IMAPError.authenticationFailed(peer: "h:993", user: "u", serverText: "no"),
    IMAPError.commandFailed(
      peer: "h:993", command: "CREATE", status: ResponseStatus(kind: .no, code: nil, text: "Invalid mailbox name")),
    IMAPError.noUIDValidity(peer: "h:993", mailbox: "INBOX"),
    IMAPParseError.malformed(reason: "bad", excerpt: "x"),
    POP3Error.authenticationFailed(peer: "h:995", user: "u", serverText: "no"),
    POP3ParseError.notAStatusLine(excerpt: "x"),
    SMTPError.commandFailed(
      peer: "h:25", command: "EHLO", reply: SMTPReply(code: 550, enhancedCode: nil, lines: ["no"])),
    SMTPParseError.malformedReply(excerpt: "x"),
    FileError(path: "/x", operation: "write", errno: ENOSPC),
    FileError(path: "/x", operation: "open", errno: EACCES),
    SQLiteError(code: 13, operation: "commit", message: "database or disk is full"),
    GzipError.corrupt(memberOffset: 0, reason: "bad"),
    ArchiveError.notAnArchive(path: "/x"),
    ManifestError.malformed(line: "x"),
    LocalStoreError.badFolderName(name: "a/b", reason: "a slash"),
    LocalStoreError.notAMaildir(path: "/x"),
    CheckpointError.otherJob(path: "/x", source: "a", target: "b"),
    ModifiedUTF7.DecodingError(name: "&bad"),
    RenewedCredentialRefused(peer: "h:993", user: "u", origin: "--oauth-token-command", serverText: "no"),
    TokenCommandError(option: "--oauth-token-command", problem: .exited(1), stderr: "invalid_grant"),
    TokenCommandError(option: "--oauth-token-command", problem: .printedNothing),
  ]

  static let temporary: [any UserFacingError] = [
    TransportError.connectionClosed(peer: "h:993"),
    TransportError.timedOut(peer: "h:993", operation: "read", seconds: 60),
    IMAPError.serverClosed(peer: "h:993", text: "BYE"),
    IMAPError.commandFailed(
      peer: "h:993", command: "SELECT",
      status: ResponseStatus(kind: .no, code: .other(name: "UNAVAILABLE", text: nil), text: "try later")),
    POP3Error.mailboxBusy(peer: "h:995", serverText: "[IN-USE] locked"),
    SMTPError.serviceUnavailable(
      peer: "h:25", reply: SMTPReply(code: 421, enhancedCode: nil, lines: ["busy"])),
    LockHeldError(path: "/x/lock", holder: "pid 1"),
    LocalStoreError.mboxChanged(path: "/x"),
    TokenCommandError(option: "--oauth-token-command", problem: .timedOut(seconds: 60)),
  ]

  @Test func permanentFailuresNeverSayRunAgain() {
    for error in Self.permanent {
      #expect(!error.isTemporary, "\(error)")
      #expect(!Migration.isRetryable(error), "\(error)")
      // Running again may follow a fix ("free some space and run …"), but is never the fix.
      let hint = ErrorClass.hint(for: error) ?? ""
      #expect(!hint.hasPrefix("run the same command again"), "\(error): \(hint)")
      #expect(!hint.hasPrefix("run again"), "\(error): \(hint)")
      #expect(!error.description.contains("\n"), "\(error)")
    }
  }

  @Test func temporaryFailuresAreRetriedOrSayRunAgain() {
    for error in Self.temporary {
      #expect(error.isTemporary, "\(error)")
      #expect(ErrorClass.hint(for: error) != nil, "\(error)")
      #expect(Migration.isRetryable(error) == (error.scope != .job), "\(error)")
    }
  }

  @Test func scopesSayHowFarAFailureReaches() {
    #expect(IMAPError.authenticationFailed(peer: "h", user: "u", serverText: "").scope == .job)
    #expect(TransportError.connectionClosed(peer: "h").scope == .connection)
    #expect(
      IMAPError.commandFailed(peer: "h", command: "CREATE", status: ResponseStatus(kind: .no, code: nil, text: ""))
        .scope == .folder)
    #expect(FileError(path: "/x", operation: "write", errno: ENOSPC).scope == .job)
    #expect(LockHeldError(path: "/x", holder: "").scope == .job)
    // An error MailFerry did not expect: one folder, permanent.
    struct Unexpected: Error {}
    #expect(ErrorClass.scope(of: Unexpected()) == .folder)
    #expect(!ErrorClass.isTemporary(Unexpected()))
  }

  /// The report's last line: "run again" only when something failed for now.
  @Test func theReportsHintFollowsTheFailures() {
    var refused = FolderReport(source: "INBOX", target: "INBOX")
    refused.failed = [MessageFailure(key: 7, kind: .refusedByTarget, reason: "NO too big", isTemporary: false)]
    var report = MigrationReport()
    report.folders = [refused]
    #expect(ReportTable.hint(for: report).hasPrefix("running the same command again will not change this"))
    #expect(ReportTable.hint(for: report).contains("the target refuses those messages"))

    var busy = FolderReport(source: "Sent", target: "Sent")
    busy.failed = [MessageFailure(key: 8, kind: .refusedByTarget, reason: "NO [UNAVAILABLE]", isTemporary: true)]
    report.folders.append(busy)
    #expect(ReportTable.hint(for: report).hasPrefix("run the same command again to retry"))

    var lost = FolderReport(source: "Lists", target: "Lists")
    lost.error = ReportedFailure(TransportError.connectionClosed(peer: "h:993"))
    var dropped = MigrationReport()
    dropped.folders = [lost]
    #expect(ReportTable.hint(for: dropped).hasPrefix("run the same command again"))
  }

  /// An IMAP refusal is temporary only when the server says so.
  @Test func appendRefusalsAreClassifiedByTheirCode() {
    func refusal(_ code: ResponseCode?) -> StoreRefusal {
      IMAPSink.refusal(ResponseStatus(kind: .no, code: code, text: "no"))
    }
    #expect(!refusal(nil).isTemporary)
    #expect(!refusal(.limit).isTemporary)
    #expect(!refusal(.overQuota).isTemporary)
    #expect(refusal(.overQuota).hint?.contains("quota") == true)
    #expect(refusal(.other(name: "UNAVAILABLE", text: nil)).isTemporary)
    #expect(refusal(.other(name: "THROTTLED", text: nil)).isTemporary)
  }
}
