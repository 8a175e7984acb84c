import Foundation
import MailCore
import ServerFixtures
import Testing

@testable import MailFerryCLI

/// `mailferry batch` end to end against the test Dovecot: each account runs as the built
/// `mailferry` binary in a process of its own.
@Suite struct BatchCommandTests {
  let server: DovecotServer
  let directory: String
  let binary: String

  init() throws {
    server = try DovecotServer.shared()
    directory = NSTemporaryDirectory() + "mailferry-batch-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    binary = BatchAccounts.binary
  }

  var stateDirectory: String { "\(directory)/state" }

  func batch(_ path: String, _ extra: [String] = []) -> CapturedRun {
    CapturedRun(
      ["batch", path, "--state-dir", stateDirectory, "--executable", binary, "--options", "--ca-file \(server.caFile)"]
        + extra)
  }

  @Test func twentyAccountsFourAtATimeOneWrongPasswordThenRerun() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let accounts = try BatchAccounts(20, on: server, in: directory)
    let (path, pairs) = (accounts.path, accounts.pairs)
    let broken = pairs[7]
    try Data("wrong-password".utf8).write(to: URL(fileURLWithPath: "\(directory)/\(broken.id).dst.pw"))

    let first = batch(path, ["--parallel", "4"])
    #expect(
      first.status == .noPermission, "a wrong password is 77, the worst of this batch: \(first.out)\n\(first.err)")
    #expect(first.status == ExitCode(rawValue: BatchOutcome.read(id: broken.id, in: stateDirectory)?.status ?? 0))
    #expect(BatchAccounts.finishedIDs(first.out).sorted() == pairs.map(\.id).sorted(), "\(first.out)")
    let brokenLine = first.out.split(separator: "\n").first { $0.hasPrefix("[") && $0.contains(" \(broken.id):") }
    #expect(brokenLine?.contains("login as \(broken.target.user.name) failed") == true, "\(first.out)")
    #expect(first.out.contains("20 account(s): 19 done, 1 not done"), "\(first.out)")
    #expect(first.err.contains("error: \(broken.id): "), "\(first.err)")
    #expect(first.err.contains("hint: fix what the errors say and run the same batch again"))
    for pair in pairs where pair.id != broken.id {
      #expect(try pair.target.contents() == pair.source.contents(), "\(pair.id)")
      #expect(FileManager.default.fileExists(atPath: "\(stateDirectory)/\(pair.id).sqlite"))
      let report = try String(contentsOfFile: "\(stateDirectory)/\(pair.id).html", encoding: .utf8)
      #expect(report.contains("Complete: every message that should move moved"), "\(pair.id)")
      #expect(
        BatchOutcome.read(id: pair.id, in: stateDirectory)?.copied == 2
          + BatchAccounts.inboxCount(Int(pair.id.dropFirst(4))!))
    }
    #expect(try broken.target.contents().isEmpty)
    let log = try String(contentsOfFile: "\(stateDirectory)/\(broken.id).log", encoding: .utf8)
    #expect(log.contains("login as \(broken.target.user.name) failed"))
    #expect(!log.contains(broken.target.user.password), "no password in the log")

    // Rerun unchanged: the finished accounts are skipped, the broken one fails again.
    let second = batch(path, ["--parallel", "4"])
    #expect(BatchAccounts.finishedIDs(second.out) == [broken.id], "\(second.out)")
    #expect(second.out.contains("20 account(s): 0 done, 19 finished earlier, 1 not done"), "\(second.out)")
    #expect(second.status == first.status)

    // Fixed: only that account runs, and every account ends exact.
    try Data(broken.target.user.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(broken.id).dst.pw"))
    let third = batch(path, ["--parallel", "4"])
    #expect(third.status == .success, "\(third.out)\n\(third.err)")
    #expect(BatchAccounts.finishedIDs(third.out) == [broken.id])
    #expect(third.out.contains("20 account(s): 1 done, 19 finished earlier"), "\(third.out)")
    for pair in pairs { #expect(try pair.target.contents() == pair.source.contents(), "\(pair.id)") }

    // --again runs them all; each is incremental, so nothing is copied twice.
    let again = batch(path, ["--parallel", "4", "--again"])
    #expect(again.status == .success, "\(again.err)")
    #expect(BatchAccounts.finishedIDs(again.out).count == 20)
    #expect(again.out.contains("20 account(s): 20 done"))
    for pair in pairs {
      #expect(BatchOutcome.read(id: pair.id, in: stateDirectory)?.copied == 0, "\(pair.id)")
      #expect(try pair.target.contents() == pair.source.contents(), "\(pair.id)")
    }
  }

  @Test func twoShardsRunEveryAccountOnce() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let accounts = try BatchAccounts(6, on: server, in: directory)
    let (path, pairs) = (accounts.path, accounts.pairs)
    let shards = (0..<2).map { batch(path, ["--shard", "\($0)/2", "--parallel", "2"]) }
    for shard in shards { #expect(shard.status == .success, "\(shard.out)\n\(shard.err)") }
    let ran = shards.map { Set(BatchAccounts.finishedIDs($0.out)) }
    #expect(ran[0].isDisjoint(with: ran[1]))
    #expect(ran[0].union(ran[1]) == Set(pairs.map(\.id)))
    #expect(ran[0].count + ran[1].count == pairs.count)
    for pair in pairs { #expect(try pair.target.contents() == pair.source.contents(), "\(pair.id)") }
  }

  /// SIGTERM to the batch: no further account starts, the running ones are asked to stop
  /// and commit what they have in flight, the batch exits 130; the next run finishes every
  /// account with each message exactly once.
  @Test func stoppedBatchExits130AndTheNextRunFinishesExactly() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let accounts = try BatchAccounts(4, on: server, in: directory)
    for (number, pair) in accounts.pairs.enumerated() {
      try pair.source.fill([
        ("Bulk", nil, BatchAccounts.messages(account: number, folder: "Bulk", count: 400))
      ])
    }
    let arguments = [
      binary, "batch", accounts.path, "--state-dir", stateDirectory, "--parallel", "2", "--options",
      "--ca-file \(server.caFile) --batch 10 --connections 1",
    ]
    let pid = try Subprocess.start(arguments, logFile: "\(directory)/stopped.log")
    // Stop once an account has committed a batch of messages.
    var copying = false
    for _ in 0..<3000 where !copying {
      copying = accounts.pairs.contains { pair in
        let events = (try? String(contentsOfFile: "\(stateDirectory)/\(pair.id).jsonl", encoding: .utf8)) ?? ""
        return events.contains("\"event\":\"batch\"")
      }
      if !copying { usleep(10_000) }
    }
    try #require(copying, "no account started copying")
    kill(pid, SIGTERM)
    let status = Subprocess.wait(for: pid)
    let log = try String(contentsOfFile: "\(directory)/stopped.log", encoding: .utf8)
    #expect(status == ExitCode.interrupted.rawValue, "\(log)")
    #expect(log.contains("stopping: no new accounts start"), "\(log)")
    #expect(log.contains("not started"), "\(log)")
    let started = BatchAccounts.finishedIDs(log)
    #expect(started.count < accounts.pairs.count, "\(log)")
    for id in started {
      let outcome = BatchOutcome.read(id: id, in: stateDirectory)
      #expect(outcome?.exitStatus == .interrupted || outcome?.exitStatus == .success, "\(id): \(log)")
    }

    let rerun = batch(accounts.path, ["--parallel", "2", "--options", "--batch 10 --connections 1"])
    #expect(rerun.status == .success, "\(rerun.out)\n\(rerun.err)")
    for pair in accounts.pairs { #expect(try pair.target.contents() == pair.source.contents(), "\(pair.id)") }
  }

  /// A `backup` line fills an archive directory given relative to the accounts file, and
  /// `verify` finds it holding everything the account has.
  @Test func backupLinesFillArchives() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let source = ServerAccount(server, try server.createUser("bbsrc"))
    try source.fill([
      ("INBOX", nil, BatchAccounts.messages(account: 98, folder: "INBOX", count: 3)),
      ("Projects", nil, BatchAccounts.messages(account: 98, folder: "Projects", count: 2)),
    ])
    let options = try source.options(as: "source", in: directory)
    let path = "\(directory)/backups.csv"
    try """
    id,command,source,target,source-password-file
    nightly,backup,\(source.url),archives/nightly,source.pw

    """.write(toFile: path, atomically: true, encoding: .utf8)
    let run = batch(path)
    #expect(run.status == .success, "\(run.out)\n\(run.err)")
    #expect(run.out.contains("nightly: done (0): 5 copied"), "\(run.out)")
    let verified = CapturedRun(["verify", source.url, "\(directory)/archives/nightly"] + options)
    #expect(verified.status == .success, "\(verified.out)\n\(verified.err)")
  }

  /// A password taken from the batch's environment by name reaches the account's process,
  /// and an account whose variable is not set fails alone, as a configuration error.
  @Test func passwordsFromTheEnvironmentByName() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let source = ServerAccount(server, try server.createUser("besrc"))
    let target = ServerAccount(server, try server.createUser("bedst"))
    try source.fill([("INBOX", nil, BatchAccounts.messages(account: 99, folder: "INBOX", count: 2))])
    let variable = "BATCH_TEST_PW_\(getpid())"
    setenv(variable + "_S", source.user.password, 1)
    setenv(variable + "_T", target.user.password, 1)
    defer {
      unsetenv(variable + "_S")
      unsetenv(variable + "_T")
    }
    let path = "\(directory)/env.csv"
    try """
    id,source,target,source-password-env,target-password-env
    env-ok,\(source.url),\(target.url),\(variable)_S,\(variable)_T
    env-missing,\(source.url),\(target.url),\(variable)_S,\(variable)_UNSET

    """.write(toFile: path, atomically: true, encoding: .utf8)
    let run = batch(path)
    #expect(run.status == .configuration, "\(run.out)\n\(run.err)")
    #expect(run.out.contains("env-ok: done (0)"), "\(run.out)")
    #expect(run.out.contains("env-missing: configuration-error (78): account env-missing takes its target password"))
    #expect(try target.contents() == source.contents())
  }
}
