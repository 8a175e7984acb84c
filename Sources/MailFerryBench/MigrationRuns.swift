import Engine
import Foundation
import IMAPEndpoint
import MailCore
import ServerFixtures
import Transport

func seconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// How long a whole section took (populating, every run and every check), for planning runs.
func printSectionTime(_ name: String, since start: ContinuousClock.Instant) {
  print("[section \(name) took " + String(format: "%.0f s]", seconds(ContinuousClock.now - start)))
}

/// What one tool's run measured, printed as one row.
struct RunFigures {
  var messages: Int
  var bytes: Int
  var seconds: Double
  var peakKB: Int? = nil
  /// The verifier's verdict on the copy (`exact 10000/10000`, …), when it checked one.
  var correctness: String? = nil

  var rate: Double { Double(messages) / seconds }

  func print(_ name: String) {
    Swift.print(
      name.padding(toLength: 46, withPad: " ", startingAt: 0)
        + String(
          format: "%8.0f msg/s  %8.1f MB/s  %6.2f s  (%d messages)", rate, Double(bytes) / 1e6 / seconds, seconds,
          messages)
        + (peakKB.map { String(format: ", peak %.0f MB", Double($0) / 1024) } ?? "")
        + (correctness.map { ", " + $0 } ?? ""))
  }
}

/// The GNU time prefix that reports a child's peak resident memory, when installed.
let peakTimer =
  FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? ["/usr/bin/time", "-f", "peak-kb %M"] : []

/// The peak resident kilobytes GNU time wrote on a child's standard error.
func peakKilobytes(_ stderr: String) -> Int? {
  stderr.split(separator: "\n").last(where: { $0.hasPrefix("peak-kb ") }).flatMap {
    Int($0.dropFirst("peak-kb ".count))
  }
}

/// A fresh private directory for one run's passwords, state and configuration.
func scratchDirectory(_ name: String) throws -> String {
  let directory = NSTemporaryDirectory() + "mailferry-bench-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
  try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  return directory
}

/// Where a copy goes: a fresh account on the target server, reached on `port` (the
/// server's IMAPS port, or a proxy's in front of it).
struct CopyTarget {
  let server: DovecotServer
  let user: DovecotServer.User
  var port: Int

  init(server: DovecotServer, prefix: String) throws {
    self.server = server
    user = try server.createUser(prefix)
    port = server.imapsPort
  }
}

/// `mailferry migrate` run as its binary, next to this one, from `source` into `target`;
/// call `run` again for a rerun of the same job.
struct CommandLineMigration {
  let source: BenchSource
  let target: CopyTarget
  var sourcePort: Int
  let directory: String
  let extra: [String]

  init(source: BenchSource, target: CopyTarget, extra: [String]) throws {
    self.source = source
    self.target = target
    self.extra = extra
    sourcePort = source.server.imapsPort
    directory = try scratchDirectory("cli")
    for (name, password) in [("source", source.user.password), ("target", target.user.password)] {
      try password.write(toFile: "\(directory)/\(name).pw", atomically: true, encoding: .utf8)
      chmod("\(directory)/\(name).pw", 0o600)
    }
  }

  static var binary: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mailferry").path
  }

  /// One run: its wall time and peak memory, or nil (with the reason printed) when it failed.
  func run() throws -> RunFigures? {
    guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
      print("  \(Self.binary) is missing (make bench builds it)")
      return nil
    }
    let start = ContinuousClock.now
    let result = try Subprocess.run(
      peakTimer + [
        Self.binary, "migrate", "imaps://\(source.user.name)@localhost:\(sourcePort)",
        "imaps://\(target.user.name)@localhost:\(target.port)", "--source-password-file", "\(directory)/source.pw",
        "--target-password-file", "\(directory)/target.pw", "--source-ca-file", source.server.caFile,
        "--target-ca-file", target.server.caFile, "--state", "\(directory)/state.sqlite", "--quiet",
      ] + extra, check: false)
    let elapsed = seconds(ContinuousClock.now - start)
    guard result.status == 0 else {
      print("  mailferry migrate failed (\(result.status)): \(result.stderr.prefix(300))")
      return nil
    }
    return RunFigures(
      messages: source.messages, bytes: source.bytes, seconds: elapsed, peakKB: peakKilobytes(result.stderr))
  }

  func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// A whole-account migration with the engine in this process (hashing, checkpoint,
/// MULTIAPPEND batches) into a fresh account; `run` may be called again for a rerun.
struct EngineMigration {
  let migration: Migration
  let state: String
  let target: CopyTarget

  init(source: BenchSource, target: CopyTarget, connections: Int, verify: MigrationOptions.VerifyMode = .automatic) {
    self.target = target
    state = NSTemporaryDirectory() + "mailferry-bench-state-\(getpid())-\(target.user.name).sqlite"
    var options = MigrationOptions()
    options.connections = connections
    options.verify = verify
    let sourceAccount = source.account
    let sourcePassword = source.user.password
    let targetAccount = IMAPAccount(
      host: target.server.host, port: target.port, user: target.user.name, security: .implicitTLS,
      tls: TLSOptions(caFile: target.server.caFile), compress: false)
    let targetPassword = target.user.password
    migration = Migration(
      source: {
        let client = try IMAPClient.connect(sourceAccount)
        try client.login(.password(sourcePassword))
        return IMAPSource(client)
      },
      sink: {
        let client = try IMAPClient.connect(targetAccount)
        try client.login(.password(targetPassword))
        return IMAPSink(client)
      }, sourceIdentity: "source", targetIdentity: target.user.name, statePath: state, options: options)
  }

  func run() throws -> RunFigures? {
    let start = ContinuousClock.now
    let report = try migration.run()
    let elapsed = seconds(ContinuousClock.now - start)
    guard report.isComplete else {
      print("  migration incomplete: \(report.folders.compactMap(\.error))")
      return nil
    }
    return RunFigures(messages: report.copied, bytes: report.copiedBytes, seconds: elapsed)
  }

  func remove() { try? FileManager.default.removeItem(atPath: state) }
}
