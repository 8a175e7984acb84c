import Foundation
import Testing

@testable import MailFerryCLI

/// `mailferry check` on job files with one mistake each: every problem names the file and
/// the line, and a file with an error runs nothing.
@Suite struct JobFileCheckTests {
  let directory: String

  init() throws {
    directory = NSTemporaryDirectory() + "mailferry-jobcheck-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  /// A valid backup job; `extra` lines are added at its end (from line 5 on).
  static func job(_ name: String = "alice", extra: [String] = []) -> [String] {
    [
      "[job \(name)]", "command = backup", "source = pop3s://alice@pop.example.org",
      "archive = /srv/mail-backup/alice",
    ] + extra
  }

  func write(_ lines: [String], mode: mode_t = 0o644, name: String = "jobs.conf") throws -> String {
    let path = "\(directory)/\(name)"
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    chmod(path, mode)
    return path
  }

  /// Runs `check` on `lines` and expects it to fail with `message` at `line`.
  func expectProblem(
    _ lines: [String], at line: Int, _ message: String, mode: mode_t = 0o644,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let path = try write(lines, mode: mode)
    let run = CapturedRun(["check", path])
    #expect(run.status == .dataError, "\(run.err)", sourceLocation: sourceLocation)
    #expect(run.err.contains("error: \(path):\(line): "), "\(run.err)", sourceLocation: sourceLocation)
    #expect(run.err.contains(message), "\(run.err)", sourceLocation: sourceLocation)
    #expect(run.err.contains("hint: "), "\(run.err)", sourceLocation: sourceLocation)
    #expect(!run.out.contains("ready"), sourceLocation: sourceLocation)
  }

  @Test func aValidFileIsReady() throws {
    let path = try write(
      Self.job(extra: ["exclude = Spam   # a comment", "exclude = Trash", "quiet", "keep-days = 30"])
        + [
          "", "# another job", "[job bob]", "command = migrate", "source = imaps://bob@old.example",
          "target = imaps://bob@new.example", "source-password-command = pass show old/bob",
          "target-password-command = pass show new/bob", "folder-map = \"s/^INBOX\\.#//\"",
        ])
    let run = CapturedRun(["check", path])
    #expect(run.status == .success, "\(run.err)")
    #expect(run.out == "\(path): 2 job(s) ready: alice, bob\n")
  }

  @Test func anUnknownKeySuggestsTheOneMeant() throws {
    try expectProblem(Self.job(extra: ["exclud = Spam"]), at: 5, "unknown key 'exclud'. Did you mean 'exclude'?")
  }

  @Test func aJobWithoutSourceIsNamedAtItsHeader() throws {
    try expectProblem(
      ["# nightly", "[job alice]", "command = backup", "archive = /srv/mail-backup/alice"], at: 2,
      "job 'alice': no source")
  }

  @Test func aBadValueIsShownAtItsKey() throws {
    try expectProblem(
      Self.job(extra: ["quiet", "dedup = sometimes"]), at: 6, "'--dedup' takes hash, message-id or none")
    try expectProblem(Self.job(extra: ["since = yesterday"]), at: 5, "'--since' takes a date")
    try expectProblem(Self.job(extra: ["quiet = maybe"]), at: 5, "'quiet' is a switch")
    try expectProblem(
      ["[job alice]", "command = backup", "source = imaps://alice:secret@imap.example.org", "archive = /srv/a"], at: 3,
      "contains a password")
  }

  @Test func anInlinePasswordInAFileOthersCanReadIsRefused() throws {
    try expectProblem(
      Self.job(extra: ["password = hunter2"]), at: 5, "a password is written in a file others can read (mode 0644)")
  }

  @Test func anInlinePasswordInAPrivateFileIsAllowedWithAWarning() throws {
    let path = try write(Self.job(extra: ["password = hunter2"]), mode: 0o600)
    let run = CapturedRun(["check", path])
    #expect(run.status == .success, "\(run.err)")
    #expect(run.err.contains("warning: \(path):5: job 'alice': the password is written in the job file"))
    #expect(!run.err.contains("hunter2") && !run.out.contains("hunter2"))
  }

  @Test func aPasswordVariableNotSetIsAWarningForCheckAndAnErrorForRun() throws {
    let variable = "MAILFERRY_JOBCHECK_UNSET_\(UInt32.random(in: 0...UInt32.max))"
    let path = try write(Self.job(extra: ["password-env = \(variable)"]))
    let checked = CapturedRun(["check", path])
    #expect(checked.status == .success, "\(checked.err)")
    #expect(checked.err.contains("warning: \(path):5: job 'alice': the variable \(variable) is not set here"))
    let run = CapturedRun(["run", path])
    #expect(run.status == .dataError)
    #expect(run.err.contains("error: \(path):5: job 'alice': the variable \(variable) is not set\n"), "\(run.err)")
    #expect(!run.out.contains("job alice:"))
  }

  @Test func aPasswordVariableIsKeptFromCommandsMailFerryStarts() throws {
    let variable = "JOBCHECK_SECRET_\(UInt32.random(in: 0...UInt32.max))"
    setenv(variable, "hunter2", 1)
    defer { unsetenv(variable) }
    #expect(ChildEnvironment.filtered([variable: "hunter2", "LANG": "C"]).keys.contains(variable))
    let path = try write(Self.job(extra: ["password-env = \(variable)"]))
    let loaded = LoadedJobFile(path: path, purpose: .run)
    #expect(loaded.jobs.first?.passwords == ["MAILFERRY_SOURCE_PASSWORD": "hunter2"])
    #expect(ChildEnvironment.filtered([variable: "hunter2", "LANG": "C"]) == ["LANG": "C"])
  }

  @Test func aMigrateJobMustSayWhichServerAPasswordIsFor() throws {
    try expectProblem(
      [
        "[job bob]", "command = migrate", "source = imaps://bob@old.example", "target = imaps://bob@new.example",
        "password-env = BOB_PASSWORD",
      ], at: 5, "'password-env' does not say which server (a migrate job has two)")
  }

  @Test func twoPasswordsForOneServerAreRefused() throws {
    try expectProblem(
      Self.job(extra: ["source-password-command = pass show alice", "password-env = ALICE"]), at: 6,
      "'password-env' and 'source-password-command' (line 5) both give the source's password")
  }

  @Test func aFileWithWindowsLineEndsReadsTheSame() throws {
    let path = "\(directory)/crlf.conf"
    try Data((Self.job(extra: ["exclude = Spam"]).joined(separator: "\r\n") + "\r\n").utf8)
      .write(to: URL(fileURLWithPath: path))
    let loaded = LoadedJobFile(path: path, purpose: .check)
    #expect(loaded.problems.isEmpty, "\(loaded.problems)")
    #expect(
      loaded.jobs.first?.arguments == [
        "backup", "pop3s://alice@pop.example.org", "/srv/mail-backup/alice", "--exclude=Spam",
      ])
  }

  @Test func aJobRunsOneCommand() throws {
    try expectProblem(Self.job(extra: ["command = migrate"]), at: 5, "'command' is given more than once (also line 2)")
  }

  @Test func theCommandLineShownForAJobCanBePastedIntoAShell() {
    #expect(ShellWords.quoted("--exclude=^Spam$") == "'--exclude=^Spam$'")
    #expect(ShellWords.quoted("--to-folder=Restored Projects") == "'--to-folder=Restored Projects'")
    #expect(ShellWords.quoted("it's") == #"'it'\''s'"#)
    #expect(ShellWords.quoted("imaps://bob@imap.example.org") == "imaps://bob@imap.example.org")
  }

  @Test func aPasswordForTheArchiveSideIsRefused() throws {
    try expectProblem(
      Self.job(extra: ["target-password-env = ALICE"]), at: 5,
      "'target-password-env' is for a server this job does not have (a backup job's source is the server)")
  }

  @Test func aDuplicateJobNameIsShownWhereItRepeats() throws {
    try expectProblem(Self.job() + Self.job(), at: 5, "job 'alice' is defined twice (first at line 1)")
  }

  @Test func aLineThatIsNeitherKeyNorSectionIsASyntaxError() throws {
    try expectProblem(Self.job(extra: ["this is not a key"]), at: 5, "cannot read 'this is not a key'")
    try expectProblem(["[alice]"] + Self.job().dropFirst(), at: 1, "a section is written [job NAME]")
  }

  @Test func aMissingPasswordFileAndAnUnknownCommandAreShown() throws {
    try expectProblem(Self.job(extra: ["password-file = \(directory)/none.pw"]), at: 5, "does not exist")
    try expectProblem(
      ["[job alice]", "command = backpu", "source = pop3s://a@pop.example.org", "archive = /srv/a"], at: 2,
      "unknown command 'backpu'. Did you mean 'backup'?")
  }

  @Test func runRunsNothingFromABrokenFile() throws {
    let path = try write(Self.job(extra: ["exclud = Spam"]))
    let run = CapturedRun(["run", path])
    #expect(run.status == .dataError)
    #expect(run.err.contains("\(path):5: "))
    #expect(!run.out.contains("job alice:"))
  }

  @Test func aJobNameNotInTheFileIsAUsageError() throws {
    let path = try write(Self.job())
    let run = CapturedRun(["run", path, "alcie"])
    #expect(run.status == .usage)
    #expect(run.err.contains("has no job 'alcie'. Did you mean 'alice'?"))
  }
}
