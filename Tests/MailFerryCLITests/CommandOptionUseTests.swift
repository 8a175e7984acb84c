import Foundation
import ServerFixtures
import Testing

@testable import MailFerryCLI

/// Each command lists only options it uses: for every option in a command's spec, some kind
/// of job of that command (an IMAP, POP3, SMTP/LMTP, archive or local side) reads it, so it
/// is not refused by `checkAllApply`. The servers are real (a private Dovecot); the jobs stop
/// at their first login (the certificate is not trusted) after every option has been read.
@Suite(.serialized) struct CommandOptionUseTests {
  @Test func everyListedOptionIsReadBySomeJobOfItsCommand() throws {
    let jobs = try OptionUseJobs()
    for command in MailFerryCommandLine.commands {
      let name = command.spec.name
      guard let lines = jobs.commandLines[name] else {
        Issue.record("no command lines for '\(name)': add its kinds of job to OptionUseJobs")
        continue
      }
      for line in lines {
        #expect(jobs.readsEverything(command, line), "mailferry \(line.joined(separator: " ")) leaves options unread")
      }
      for option in command.spec.options {
        #expect(
          lines.contains { jobs.reads(option, command: command, line: $0) },
          "mailferry \(name) lists --\(option.name), but none of its jobs reads it: drop it from its spec")
      }
    }
  }

  /// The check above can fail: an option a job does not use is found unread.
  @Test func anOptionAJobDoesNotUseIsFoundUnread() throws {
    let jobs = try OptionUseJobs()
    let migrate = MigrateCommand.self
    let imapToIMAP = try #require(jobs.commandLines["migrate"]?.first)
    #expect(!jobs.reads(try #require(migrate.spec.option(named: "rcpt")), command: migrate, line: imapToIMAP))
    #expect(!jobs.reads(try #require(migrate.spec.option(named: "compression")), command: migrate, line: imapToIMAP))
    #expect(jobs.reads(try #require(migrate.spec.option(named: "target-ca-file")), command: migrate, line: imapToIMAP))
  }
}

/// Command lines for each kind of job of each command, and a way to run one with an option
/// added and see whether the command read it.
final class OptionUseJobs {
  let directory: String
  let commandLines: [String: [[String]]]
  private let samples: [String: String]
  private var runs = 0

  init() throws {
    let dovecot = try DovecotServer.shared()
    let alice = try dovecot.createUser("optuse")
    let bob = try dovecot.createUser("optuse")
    directory = NSTemporaryDirectory() + "mailferry-option-use-\(UUID().uuidString)"
    let alicePassword = "\(directory)/alice.pw"
    let bobPassword = "\(directory)/bob.pw"
    let maildir = "\(directory)/Maildir"
    let archive = "\(directory)/archive"
    for folder in ["cur", "new", "tmp"] {
      try FileManager.default.createDirectory(atPath: "\(maildir)/\(folder)", withIntermediateDirectories: true)
    }
    try Data("From: a@example.org\r\nSubject: one\r\nMessage-ID: <one@example.org>\r\n\r\nbody\r\n".utf8)
      .write(to: URL(fileURLWithPath: "\(maildir)/new/1.example"))
    try Data(alice.password.utf8).write(to: URL(fileURLWithPath: alicePassword))
    try Data(bob.password.utf8).write(to: URL(fileURLWithPath: bobPassword))
    chmod(alicePassword, 0o600)
    chmod(bobPassword, 0o600)
    try Data("A=B\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/folder-map"))
    let imported = CapturedRun(["import", "maildir:\(maildir)", archive])
    guard imported.status == .success else { throw OptionUseSetupError(message: imported.err) }

    // No --ca-file: the test CA is not trusted, so a job stops at its first login.
    let imapA = "imaps://\(alice.name)@127.0.0.1:\(dovecot.imapsPort)"
    let imapB = "imaps://\(bob.name)@127.0.0.1:\(dovecot.imapsPort)"
    let pop3A = "pop3s://\(alice.name)@127.0.0.1:\(dovecot.pop3sPort)"
    let lmtp = "lmtp://127.0.0.1:\(dovecot.lmtpPort)"
    let rcpt = ["--rcpt", "\(bob.name)@example.org"]
    let sourceAndTarget = ["--source-password-file", alicePassword, "--target-password-file", bobPassword]
    let sole = ["--password-file", alicePassword]
    let newDirectory = OptionUseJobs.newDirectory
    let jobFile = "\(directory)/jobs.conf"
    try Data(
      "[job local]\ncommand = migrate\nsource = maildir:\(maildir)\ntarget = maildir:\(directory)/job-copy\n".utf8
    ).write(to: URL(fileURLWithPath: jobFile))
    let accounts = "\(directory)/accounts.csv"
    try Data("id,source,target\nlocal,maildir:\(maildir),maildir:\(directory)/batch-copy\n".utf8)
      .write(to: URL(fileURLWithPath: accounts))
    let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent(".build/debug/mailferry").path
    commandLines = [
      "probe": [["probe", imapA] + sole, ["probe", pop3A] + sole, ["probe", lmtp]],
      "folders": [["folders", imapA] + sole, ["folders", pop3A] + sole, ["folders", archive]],
      "plan": [
        ["plan", imapA, imapB] + sourceAndTarget, ["plan", pop3A, imapB] + sourceAndTarget,
        ["plan", imapA, lmtp] + rcpt + ["--source-password-file", alicePassword], ["plan", imapA, newDirectory] + sole,
      ],
      "migrate": [
        ["migrate", imapA, imapB] + sourceAndTarget, ["migrate", pop3A, imapB] + sourceAndTarget,
        ["migrate", imapA, lmtp] + rcpt + ["--source-password-file", alicePassword],
        ["migrate", imapA, newDirectory] + sole, ["migrate", "maildir:\(maildir)", "maildir:\(newDirectory)"],
      ],
      "verify": [["verify", imapA, imapB] + sourceAndTarget, ["verify", imapA, archive] + sole],
      "backup": [["backup", imapA, newDirectory] + sole, ["backup", pop3A, newDirectory] + sole],
      "restore": [["restore", archive, imapB] + sole, ["restore", archive, lmtp] + rcpt],
      "import": [["import", "maildir:\(maildir)", newDirectory]],
      "export": [["export", archive, newDirectory, "--format", "maildir"]],
      "archive": [["archive", "search", archive]],
      "profiles": [["profiles", "show", "dovecot"]],
      "completions": [["completions", "bash"]],
      "run": [["run", jobFile]],
      "check": [["check", jobFile]],
      "status": [["status", jobFile], ["status", "--state", "\(directory)/job.sqlite"]],
      "batch": [["batch", accounts, "--state-dir", "\(newDirectory)/batch", "--executable", binary]],
    ]
    samples = [
      "password-file": alicePassword, "source-password-file": alicePassword, "target-password-file": bobPassword,
      "password-command": "printf secret", "source-password-command": "printf secret",
      "target-password-command": "printf secret", "oauth-token-command": "printf token",
      "source-oauth-token-command": "printf token", "target-oauth-token-command": "printf token",
      "oauth-token-timeout": "5", "ca-file": dovecot.caFile, "source-ca-file": dovecot.caFile,
      "target-ca-file": dovecot.caFile, "login-method": "auto", "source-login-method": "auto",
      "target-login-method": "auto", "timeout": "30", "trace": "\(directory)/trace", "profile": "dovecot",
      "source-profile": "dovecot", "target-profile": "dovecot", "compression": "6", "rcpt": "x@example.org",
      "log": "\(directory)/run.log", "report": "\(directory)/report.html",
      "mail-from": "sender@example.org", "defer-retries": "1", "defer-wait": "1", "delivery-sessions": "2",
      "include": "INBOX",
      "exclude": "Trash", "folder-map": "A=B", "folder-map-file": "\(directory)/folder-map", "since": "2024-01-01",
      "before": "2030-01-01", "max-size": "100000", "spool-dir": directory, "dedup": "hash", "gmail-labels": "folders",
      "connections": "1",
      "batch": "10", "state": "\(newDirectory)/job.sqlite", "keep-days": "7", "max-wait": "60", "max-rate": "10",
      "folder": "INBOX", "to-folder": "Restored", "format": "maildir", "message-id": "one@example.org",
      "from": "a@example.org", "subject": "one", "parallel": "1", "shard": "0/1",
      "state-dir": "\(newDirectory)/batch", "options": "--connections 1", "executable": binary,
    ]
  }

  deinit { try? FileManager.default.removeItem(atPath: directory) }

  /// Stands for a directory no run has used yet (an archive or a Maildir a job creates).
  static let newDirectory = "<new directory>"

  /// The words that say where a side's password or token comes from, by side prefix.
  private static let credentialSuffixes = ["password-file", "password-command", "oauth-token-command"]

  /// For `--source-password-file` and the like, the side's prefix (`source-`, or empty).
  private static func credentialSide(_ word: String) -> String? {
    guard word.hasPrefix("--") else { return nil }
    return credentialSuffixes.first { word.hasSuffix($0) }.map { String(word.dropFirst(2).dropLast($0.count)) }
  }

  /// Options that are only read together with another: the timeout of a token command.
  private static let companions = ["oauth-token-timeout": ["--oauth-token-command", "printf token"]]

  /// Whether `command` run as `line` with `option` added reads the option. A credential
  /// option replaces the line's own for the same side (of the two, only one is read).
  func reads(_ option: CommandSpec.Option, command: any Subcommand.Type, line: [String]) -> Bool {
    if line.contains("--\(option.name)") { return readsEverything(command, line) }
    guard option.valueName == nil || samples[option.name] != nil else {
      Issue.record("no sample value for --\(option.name): add one to OptionUseJobs")
      return false
    }
    var added = ["--\(option.name)"] + (option.valueName == nil ? [] : [samples[option.name]!])
    added += Self.companions[option.name] ?? []
    // The one-server names (`--password-file`) also give the only server's: replaced too.
    var replacedSides = Set(added.compactMap(Self.credentialSide))
    if !replacedSides.isEmpty { replacedSides.insert("") }
    var kept: [String] = []
    var index = 0
    while index < line.count {
      if let side = Self.credentialSide(line[index]), replacedSides.contains(side) {
        index += 2
      } else {
        kept.append(line[index])
        index += 1
      }
    }
    return readsEverything(command, kept + added)
  }

  /// Runs `command` as `line` (the first word is the command's name) and tells whether
  /// every option given was read.
  func readsEverything(_ command: any Subcommand.Type, _ line: [String]) -> Bool {
    CapturedRun.privateStateHome
    runs += 1
    let fresh = "\(directory)/run-\(runs)"
    let words = line.dropFirst().map { $0.replacingOccurrences(of: Self.newDirectory, with: fresh) }
    let quiet = Console(out: { _ in }, err: { _ in }, isTerminal: false)
    guard let arguments = try? ParsedArguments(Array(words), spec: command.spec) else { return false }
    _ = try? MailFerryCommandLine.execute(command, arguments, console: quiet)
    return (try? arguments.checkAllApply(to: "a test")) != nil
  }
}

struct OptionUseSetupError: Error {
  let message: String
}
