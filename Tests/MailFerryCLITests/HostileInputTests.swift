import Foundation
import MailCore
import ServerFixtures
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

  /// A folder named with terminal escape sequences (anyone can name a folder, and mail
  /// content reaches `archive search`): shown escaped, and never a raw control character
  /// in a file name.
  @Test func controlCharactersInNamesAreShownEscapedAndNeverWrittenRaw() throws {
    let directory = NSTemporaryDirectory() + "mailferry-hostile-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let mbox = "\(directory)/mbox"
    try FileManager.default.createDirectory(atPath: mbox, withIntermediateDirectories: true)
    let evil = "red\u{1B}]0;owned\u{07}\u{1B}[31m\u{202E}txt"
    let message = "From a@b Sat Jan  3 01:05:34 2024\nSubject: \u{1B}[2Jgone\nMessage-ID: <x@y>\n\nhi\n"
    try Data(message.utf8).write(to: URL(fileURLWithPath: "\(mbox)/\(evil)"))

    let folders = CapturedRun(["folders", "mbox:\(mbox)"])
    #expect(folders.status == .success, "\(folders.err)")
    let shown = folders.out + folders.err
    #expect(!shown.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{202E}" })
    #expect(shown.contains("red\\x1B]0;owned\\x07\\x1B[31m\\u{202E}txt"), "\(shown)")

    let archive = "\(directory)/archive"
    #expect(CapturedRun(["import", "mbox:\(mbox)", archive]).status == .success)
    let search = CapturedRun(["archive", "search", archive, "--subject", "gone"])
    #expect(search.out.contains("\\x1B[2Jgone"), "\(search.out)")
    #expect(!(search.out + search.err).contains("\u{1B}"), "\(search.out)")
    for format in ["eml", "mbox"] {
      let out = "\(directory)/out-\(format)"
      let exported = CapturedRun(["export", archive, out, "--format", format])
      #expect(exported.status == .success, "\(exported.err)")
      let names = try FileManager.default.subpathsOfDirectory(atPath: out)
      #expect(!names.contains { $0.unicodeScalars.contains(where: ControlCharacters.isControl) }, "\(names)")
      #expect(names.contains { $0.hasPrefix("red%1B]0;owned%07%1B[31m%E2%80%AEtxt") }, "\(names)")
    }
  }

  /// An archive the user may not read is "permission denied", not "no archive yet".
  @Test func anArchiveThatCannotBeReadSaysWhy() throws {
    guard geteuid() == 0 else { return }  // needs another user to be refused
    let directory = NSTemporaryDirectory() + "mailferry-denied-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createDirectory(atPath: "\(directory)/mbox", withIntermediateDirectories: true)
    try Data("From a@b Sat Jan  3 01:05:34 2024\nSubject: x\n\nhi\n".utf8).write(
      to: URL(fileURLWithPath: "\(directory)/mbox/INBOX"))
    chmod(directory, 0o755)
    let archive = "\(directory)/archive"
    #expect(CapturedRun(["import", "mbox:\(directory)/mbox", archive]).status == .success)
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/debug/mailferry").path
    let denied = try Subprocess.run(
      ["runuser", "-u", "nobody", "--", binary, "archive", "list", archive], environment: ["HOME": "/tmp"],
      check: false)
    #expect(denied.status != 0)
    #expect(denied.stderr.contains("Permission denied"), "\(denied.stderr)")
    #expect(!denied.stderr.contains("no MailFerry archive"), "\(denied.stderr)")
  }

  @Test func deletingFromAStoreThatCannotBeChangedIsRefusedUpFront() throws {
    let directory = NSTemporaryDirectory() + "mailferry-nodelete-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createDirectory(atPath: "\(directory)/mbox", withIntermediateDirectories: true)
    try Data("From a@b Sat Jan  3 01:05:34 2024\nSubject: x\n\nhi\n".utf8).write(
      to: URL(fileURLWithPath: "\(directory)/mbox/INBOX"))
    let run = CapturedRun(
      ["migrate", "mbox:\(directory)/mbox", "maildir:\(directory)/Maildir", "--delete-source"])
    #expect(run.status == .usage)
    #expect(run.err.contains("cannot remove messages from an mbox file"), "\(run.err)")
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/Maildir"), "nothing was copied")
  }
}
