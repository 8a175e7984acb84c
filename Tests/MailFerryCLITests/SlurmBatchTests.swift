import Foundation
import ServerFixtures
import Testing

@testable import MailFerryCLI

/// A batch spread over a real scheduler: a private single-node Slurm runs 20 accounts as a
/// 4-task job array, each task `mailferry batch --shard $SLURM_ARRAY_TASK_ID/4`, with the
/// accounts file, state and logs in one directory (the shared storage of a cluster).
///
/// Runs with `make test-slurm` (MAILFERRY_SLURM_TESTS=1); it needs Slurm and MUNGE
/// (`scripts/install-test-deps --slurm`).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["MAILFERRY_SLURM_TESTS"] == "1"))
struct SlurmBatchTests {
  @Test func twentyAccountsAsAFourTaskJobArray() throws {
    let binary = BatchAccounts.binary
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let server = try DovecotServer.shared()
    let cluster = try SlurmCluster()
    defer { cluster.stop() }
    let shared = NSTemporaryDirectory() + "mailferry-slurm-batch-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: shared) }
    let accounts = try BatchAccounts(20, on: server, in: shared)

    let script = "\(shared)/mailferry-batch.sh"
    try """
    #!/bin/sh
    # One task of the array: its shard of the accounts, two at a time.
    exec '\(binary)' batch '\(accounts.path)' --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" \\
      --parallel 2 --state-dir '\(shared)/state' --options "--ca-file '\(server.caFile)'"

    """.write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)

    let submitted = try cluster.runJobArray(script: script, tasks: 4, outputDirectory: shared)
    let outputs = (0..<4).map {
      (try? String(contentsOfFile: "\(shared)/task-\($0).out", encoding: .utf8)) ?? "(task \($0) wrote no output)"
    }
    #expect(submitted.status == 0, "sbatch: \(submitted.stderr)\n\(outputs.joined(separator: "\n----\n"))")

    // Each task ran its own shard: together every account, each exactly once.
    let ran = outputs.map { BatchAccounts.finishedIDs($0) }
    #expect(ran.flatMap { $0 }.sorted() == accounts.pairs.map(\.id).sorted(), "\(ran)")
    for (index, ids) in ran.enumerated() {
      let shard = BatchShard(index: index, count: 4)
      #expect(ids.allSatisfy { shard.contains($0) }, "task \(index) ran \(ids)")
    }
    for pair in accounts.pairs {
      #expect(BatchOutcome.read(id: pair.id, in: "\(shared)/state")?.exitStatus == .success, "\(pair.id)")
      #expect(try pair.target.contents() == pair.source.contents(), "\(pair.id)")
    }
  }
}
