import Engine
import Foundation
import ServerFixtures

/// Every migrating tool copies `source` into its own fresh account on `targetServer`, one
/// round each, every copy checked by the verifier; then the ratios the issue asks for and
/// the reruns with nothing changed. `withEngine` adds the in-process engine rows and the
/// CLI with `--compress` (the first corpus only, to keep the second one short). Returns the
/// peak memory of the CLI's default run.
@discardableResult @MainActor func runMigrateSection(
  _ source: BenchSource, targetServer: DovecotServer, withEngine: Bool
) throws -> Int? {
  print("")
  print(
    "migrate the \(source.name) account "
      + String(
        format: "(%d messages, %.1f MB) to a second local Dovecot (IMAPS to IMAPS), one round each:", source.messages,
        Double(source.bytes) / 1e6))
  var reruns: [(name: String, seconds: Double)] = []
  var cliSeconds: [String: Double] = [:]
  var defaultsPeakKB: Int?

  if withEngine && cliVariants == nil {
    for connections in [2, 4] {
      let job = EngineMigration(
        source: source, target: try CopyTarget(server: targetServer, prefix: "mf"), connections: connections)
      defer { job.remove() }
      guard var figures = try job.run() else { continue }
      figures.correctness = source.verify(copyOn: targetServer, user: job.target.user)
      figures.print("mailferry migrate, \(connections) connections")
      if connections == 2, let again = try job.run() { reruns.append(("mailferry migrate (engine)", again.seconds)) }
    }
  }
  var variants: [(label: String, extra: [String])] = [("defaults", [])]
  if let cliVariants {
    variants = cliVariants.map { ($0.isEmpty ? "defaults" : $0.joined(separator: " "), $0) }
  } else {
    if withEngine { variants.append(("--compress", ["--compress"])) }
    variants += [
      ("--no-compress", ["--no-compress"]), ("--no-compress --connections 4", ["--no-compress", "--connections", "4"]),
    ]
  }
  for (label, extra) in variants {
    let job = try CommandLineMigration(
      source: source, target: try CopyTarget(server: targetServer, prefix: "cli"), extra: extra)
    defer { job.remove() }
    guard var figures = try job.run() else { continue }
    figures.correctness = source.verify(copyOn: targetServer, user: job.target.user)
    figures.print("mailferry CLI, \(label)")
    cliSeconds[label] = figures.seconds
    if label == "defaults" { defaultsPeakKB = figures.peakKB }
    if label == "defaults", let again = try job.run() {
      reruns.append(("mailferry CLI, defaults", again.seconds))
    }
  }

  var minimalSeconds: Double?
  for connections in [2, 4] {
    let target = try CopyTarget(server: targetServer, prefix: "min")
    var figures = try MinimalCopier(source: source, target: target, connections: connections).run()
    figures.correctness = source.verify(copyOn: targetServer, user: target.user)
    figures.print("limit: minimal client, \(connections) connection pairs")
    minimalSeconds = min(minimalSeconds ?? .infinity, figures.seconds)
  }

  var imapsyncSeconds: Double?
  if runsPeers {
    let mbsyncTarget = try CopyTarget(server: targetServer, prefix: "mb")
    if let outcome = try migrateWithMbsync(source, into: mbsyncTarget) {
      var first = outcome.first
      first.correctness = source.verify(copyOn: targetServer, user: mbsyncTarget.user)
      first.print("peer: mbsync IMAP to IMAP")
      if let again = outcome.rerunSeconds { reruns.append(("peer: mbsync", again)) }
    } else {
      print("peer: mbsync not run (scripts/install-test-deps --bench installs isync)")
    }
    let imapsyncTarget = try CopyTarget(server: targetServer, prefix: "is")
    if let outcome = try migrateWithImapsync(source, into: imapsyncTarget) {
      var first = outcome.first
      first.correctness = source.verify(copyOn: targetServer, user: imapsyncTarget.user)
      first.print("peer: imapsync IMAPS to IMAPS")
      imapsyncSeconds = first.seconds
      if let again = outcome.rerunSeconds { reruns.append(("peer: imapsync", again)) }
    } else {
      print("peer: imapsync not run (needs ../shared/peers/imapsync and: scripts/install-test-deps --bench)")
    }
  }

  if let defaults = cliSeconds["defaults"] {
    print("")
    if let minimalSeconds {
      print(String(format: "mailferry CLI defaults / minimal client: %.2f (goal >= 0.9)", minimalSeconds / defaults))
    }
    if let imapsyncSeconds {
      print(String(format: "mailferry CLI defaults / imapsync:       %.2f (goal >= 3.5)", imapsyncSeconds / defaults))
    }
    if let best = cliSeconds.filter({ $0.key != "defaults" }).min(by: { $0.value < $1.value }) {
      print(
        String(format: "mailferry CLI defaults / best options:   %.2f", best.value / defaults) + " (best: \(best.key))")
    }
  }
  print("\nthe same job run again with nothing changed (\(source.messages) messages checked):")
  for rerun in reruns {
    print(rerun.name.padding(toLength: 46, withPad: " ", startingAt: 0) + String(format: "%6.2f s", rerun.seconds))
  }
  return defaultsPeakKB
}
