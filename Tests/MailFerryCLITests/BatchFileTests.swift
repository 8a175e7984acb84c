import Foundation
import Testing

@testable import MailFerryCLI

/// The parts of `mailferry batch` that need no server: the accounts file, its errors, the
/// option words and the shards.
@Suite struct BatchFileTests {
  let directory: String

  init() throws {
    directory = NSTemporaryDirectory() + "mailferry-batchfile-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  func write(_ text: String, name: String = "accounts.csv") throws -> String {
    let path = "\(directory)/\(name)"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func csvFollowsRFC4180Quoting() throws {
    let records = try CSVRecords.parse(
      "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n\r\n,,\nlast,row,\"\"")
    #expect(
      records.map(\.fields) == [
        ["a", "b", "c"], ["x, y", "say \"hi\"", "two\nlines"], ["", "", ""], ["last", "row", ""],
      ])
    #expect(records.map(\.line) == [1, 2, 5, 6])
  }

  @Test func accountsFileReadsColumnsCredentialsAndRelativePaths() throws {
    let path = try write(
      """
      id,source,target,source-password-file,target-password-env,options
      alice,imaps://alice%40old.example@imap.old.example,imaps://alice@imap.new.example,pw/alice,NEW_PW,"--include '^Work$' --connections 1"
      ,imaps://bob@imap.old.example,backups/bob,/etc/bob.pw,,

      """)
    let file = try AccountsFile(path: path)
    #expect(file.accounts.map(\.id) == ["alice", "bob"])
    let alice = file.accounts[0]
    #expect(alice.line == 2)
    #expect(alice.command == "migrate")
    #expect(alice.options == ["--include", "^Work$", "--connections", "1"])
    #expect(
      alice.credentials == [
        .init(side: "source", credential: .passwordFile("\(directory)/pw/alice")),
        .init(side: "target", credential: .passwordVariable("NEW_PW")),
      ])
    #expect(file.accounts[1].target == "\(directory)/backups/bob", "an archive directory is relative to the file")
    #expect(
      alice.arguments(stateFile: "/s/alice.sqlite", batchOptions: ["--ca-file", "ca.pem"]) == [
        "migrate", "imaps://alice%40old.example@imap.old.example", "imaps://alice@imap.new.example", "--state",
        "/s/alice.sqlite", "--json", "--report", "/s/alice.html", "--source-password-file", "\(directory)/pw/alice",
        "--ca-file", "ca.pem",
        "--include", "^Work$", "--connections", "1",
      ])
    // The password from the batch's environment reaches the child under MailFerry's name,
    // and no other MailFerry secret does; the command line never holds it.
    let environment = try alice.environment(from: [
      "NEW_PW": "secret-1", "MAILFERRY_SOURCE_PASSWORD": "not-for-children", "PATH": "/bin",
    ])
    #expect(environment == ["MAILFERRY_TARGET_PASSWORD": "secret-1", "NEW_PW": "secret-1", "PATH": "/bin"])
    #expect(!alice.arguments(stateFile: "s", batchOptions: []).contains("secret-1"))
    #expect(throws: ConfigurationError.self) { _ = try alice.environment(from: [:]) }
    // Without an id column the id is the source user.
    #expect(AccountsFile.derivedID(source: "imaps://alice%40old.example@imap.old.example") == "alice@old.example")
  }

  /// Each broken file stops the batch before anything runs, exit status 65, with the file,
  /// the line and a hint.
  @Test(arguments: [
    ("source,target\nimaps://a@h,\"imaps://b@h\n", ":2: a double-quoted field is not closed", "closing double quote"),
    ("source,target\nimaps://a@h,imaps://b@h,extra\n", ":2: the line has 3 field(s), the header 2", "double quotes"),
    ("source,taget\nimaps://a@h,imaps://b@h\n", ":1: unknown column 'taget'", "did you mean 'target'?"),
    ("source,target\nimaps://a@h,x\"y\n", ":2: a double quote inside a field", "two (\"\")"),
    (
      "id,source,target\nsame,imaps://a@h,imaps://b@h\nsame,imaps://c@h,imaps://d@h\n",
      ":3: account id 'same' is already used on line 2", "its own id"
    ),
    (
      "source,target,source-password-file,source-password-env\nimaps://a@h,imaps://b@h,f,V\n",
      ":2: the source password is given more than one way", "keep one"
    ),
    (
      "source,target,command\nimaps://a@h,imaps://b@h,delete\n", ":2: command 'delete' is not one a batch runs",
      "migrate, backup, restore"
    ),
    ("source,target\n", " lists no accounts", "add one line per account"),
    (
      "source,target,options\nimaps://a@h,imaps://b@h,--state=x.sqlite\n",
      ":2: the 'options' field sets --state, which the batch sets", "remove it"
    ),
    ("source,target,options\nimaps://a@h,imaps://b@h,--include 'x\n", ":2: the 'options' field", "close the quote"),
  ])
  func brokenAccountsFilesAreDataErrors(text: String, error: String, hint: String) throws {
    let path = try write(text)
    let run = CapturedRun(["batch", path, "--state-dir", "\(directory)/state", "--executable", "/bin/false"])
    #expect(run.status == .dataError, "\(run.err)")
    #expect(run.err.contains("error: \(path)\(error)"), "\(run.err)")
    #expect(run.err.contains("hint: ") && run.err.contains(hint), "\(run.err)")
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/state"), "nothing ran")
  }

  @Test func missingAccountsFileIsADataError() {
    let run = CapturedRun(["batch", "\(directory)/none.csv", "--executable", "/bin/false"])
    #expect(run.status == .dataError)
    #expect(run.err.contains("error: \(directory)/none.csv cannot be read"))
  }

  @Test func badBatchOptionsAreUsageErrors() throws {
    let path = try write("source,target\nimaps://a@h,imaps://b@h\n")
    for arguments in [
      ["--shard", "4/4"], ["--shard", "1"], ["--shard", "-1/3"], ["--parallel", "0"], ["--options", "'x"],
      ["--options", "--json"],
    ] {
      let run = CapturedRun(["batch", path] + arguments)
      #expect(run.status == .usage, "\(arguments): \(run.err)")
    }
  }

  @Test func aMissingExecutableStopsTheBatchBeforeAnyAccount() throws {
    let path = try write("source,target\nimaps://a@h,imaps://b@h\n")
    let run = CapturedRun(["batch", path, "--state-dir", "\(directory)/state", "--executable", "\(directory)/nope"])
    #expect(run.status != .success)
    #expect(run.err.contains("error: mailferry executable \(directory)/nope is not an executable file"), "\(run.err)")
    #expect(!FileManager.default.fileExists(atPath: "\(directory)/state"), "nothing ran")
  }

  /// With a stand-in for mailferry that exits as each line says: each account's status is
  /// its process's, the batch's is the worst, and a child killed by a signal is named.
  @Test func eachAccountsStatusIsItsProcessesAndTheBatchsTheWorst() throws {
    let fake = "\(directory)/fake-mailferry"
    try """
    #!/bin/sh
    echo "arguments: $*" >&2
    echo "password: ${MAILFERRY_TARGET_PASSWORD:-none}" >&2
    case "$2" in
      exit:*) echo "error: failing as told: $2" >&2; exit "${2#exit:}" ;;
      signal:*) kill -s "${2#signal:}" $$ ;;
    esac

    """.write(toFile: fake, atomically: true, encoding: .utf8)
    chmod(fake, 0o755)
    let path = try write(
      """
      id,source,target,target-password-env
      ok,exit:0,t,
      later,exit:75,t,
      refused,exit:77,t,BATCH_FAKE_PW

      """)
    setenv("BATCH_FAKE_PW", "fake-secret", 1)
    defer { unsetenv("BATCH_FAKE_PW") }
    let state = "\(directory)/state"
    let run = CapturedRun(["batch", path, "--state-dir", state, "--executable", fake, "--parallel", "3"])
    #expect(run.status == .noPermission, "\(run.out)\n\(run.err)")
    #expect(run.out.contains("ok: done (0)"), "\(run.out)")
    #expect(run.out.contains("later: try-later (75): failing as told: exit:75"), "\(run.out)")
    #expect(run.out.contains("refused: no-permission (77): failing as told: exit:77"), "\(run.out)")
    let log = try String(contentsOfFile: "\(state)/refused.log", encoding: .utf8)
    #expect(log.contains("arguments: migrate exit:77 \(directory)/t --state \(state)/refused.sqlite --json"), "\(log)")
    #expect(log.contains("password: fake-secret"))
    let argumentsLine = log.split(separator: "\n").first { $0.hasPrefix("arguments:") }
    #expect(argumentsLine.map { !$0.contains("fake-secret") } == true, "no password on the command line")
    #expect(BatchOutcome.read(id: "later", in: state)?.exitCode == 75)

    // The rerun skips `ok` only; a child that dies of a signal counts as stopped.
    let crashing = try write(
      """
      id,source,target
      ok,exit:0,t
      crash,signal:SEGV,t

      """)
    let rerun = CapturedRun(["batch", crashing, "--state-dir", state, "--executable", fake])
    #expect(rerun.status == .interrupted, "\(rerun.out)\n\(rerun.err)")
    #expect(rerun.out.contains("crash: stopped (130): mailferry was ended by signal 11"), "\(rerun.out)")
    #expect(rerun.out.contains("2 account(s): 0 done, 1 finished earlier, 1 not done"), "\(rerun.out)")
    #expect(BatchOutcome.read(id: "crash", in: state)?.signal == SIGSEGV)
  }

  @Test func optionWordsSplitLikeAShellWithoutExpanding() throws {
    #expect(try OptionWords.split("") == [])
    #expect(try OptionWords.split("  --a  b ") == ["--a", "b"])
    #expect(
      try OptionWords.split("--include '^My Work$' --x \"a b\" c\\ d '$HOME'") == [
        "--include", "^My Work$", "--x", "a b", "c d", "$HOME",
      ])
    #expect(try OptionWords.split("''") == [""])
    #expect(throws: OptionWords.Failure.self) { try OptionWords.split("\"open") }
  }

  /// Every account is in exactly one shard, for any number of shards; the shards are not
  /// wildly uneven; the hash is the published FNV-1a, the same in every process.
  @Test func shardsAreDisjointAndCoverEveryAccount() throws {
    #expect(BatchShard.stableHash("") == 0xcbf2_9ce4_8422_2325)
    #expect(BatchShard.stableHash("a") == 0xaf63_dc4c_8601_ec8c)
    let ids = (0..<2000).map { "user\($0)@example.org" } + ["a", "b", "ü@example.org", "x-1", "x-2"]
    for count in 1...16 {
      let shards = (0..<count).map { BatchShard(index: $0, count: count) }
      var sizes = Array(repeating: 0, count: count)
      for id in ids {
        let owners = shards.filter { $0.contains(id) }
        #expect(owners.count == 1, "\(id) in \(owners.count) of \(count) shards")
        if let owner = owners.first { sizes[owner.index] += 1 }
      }
      #expect(sizes.reduce(0, +) == ids.count)
      #expect(sizes.min()! * 2 > ids.count / count, "\(count) shards: \(sizes)")
    }
    #expect(try BatchShard(parsing: "2/4", command: "batch") == BatchShard(index: 2, count: 4))
  }
}
