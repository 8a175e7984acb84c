import Foundation
import ServerFixtures

/// A peer's first run into a fresh account and its rerun with nothing changed.
struct PeerOutcome {
  var first: RunFigures
  var rerunSeconds: Double?
}

/// isync's mbsync copying `source` IMAP to IMAP into `target` (its own state, no hashing),
/// under GNU time; then again with nothing changed.
func migrateWithMbsync(_ source: BenchSource, into target: CopyTarget, rerun: Bool = true) throws -> PeerOutcome? {
  guard Subprocess.exists("mbsync") else { return nil }
  let directory = try scratchDirectory("mbsync-imap")
  defer { try? FileManager.default.removeItem(atPath: directory) }
  let config =
    mbsyncIMAPStore(
      "source", port: source.server.imapsPort, user: source.user.name, password: source.user.password,
      caFile: source.server.caFile)
    + mbsyncIMAPStore(
      "target", port: target.port, user: target.user.name, password: target.user.password,
      caFile: target.server.caFile)
      + """
      Channel move
      Far :source:
      Near :target:
      Patterns \(source.folders.map { "\"\($0)\"" }.joined(separator: " "))
      Create Near
      Sync Pull
      SyncState \(directory)/

      """
  try config.write(toFile: directory + "/mbsyncrc", atomically: true, encoding: .utf8)
  return try timePeer(
    "mbsync", peakTimer + ["mbsync", "-q", "-c", directory + "/mbsyncrc", "move"], copying: source, rerun: rerun)
}

/// Runs a peer's command under GNU time into a fresh account, then (with `rerun`) again with
/// nothing changed; nil, with the reason printed, when it fails.
private func timePeer(
  _ name: String, _ command: [String], copying source: BenchSource, rerun: Bool
) throws
  -> PeerOutcome?
{
  var outcome: PeerOutcome?
  for round in rerun ? [1, 2] : [1] {
    let start = ContinuousClock.now
    let result = try Subprocess.run(command, check: false)
    guard result.status == 0 else {
      print("  \(name) failed (\(result.status)): \(result.stderr.suffix(300))")
      return nil
    }
    let elapsed = seconds(ContinuousClock.now - start)
    if round == 1 {
      outcome = PeerOutcome(
        first: RunFigures(
          messages: source.messages, bytes: source.bytes, seconds: elapsed, peakKB: peakKilobytes(result.stderr)))
    } else {
      outcome?.rerunSeconds = elapsed
    }
  }
  return outcome
}

/// An mbsync account on the local Dovecot over implicit TLS and its IMAP store, both called
/// `name`, pipelining 50 commands as the benchmark runs it.
func mbsyncIMAPStore(_ name: String, port: Int, user: String, password: String, caFile: String) -> String {
  """
  IMAPAccount \(name)
  Host localhost
  Port \(port)
  User \(user)
  Pass \(password)
  SSLType IMAPS
  CertificateFile \(caFile)
  PipelineDepth 50

  IMAPStore \(name)
  Account \(name)


  """
}

/// The imapsync script: `$MAILFERRY_IMAPSYNC`, else `../shared/peers/imapsync`.
var imapsyncScript: String? {
  let script =
    ProcessInfo.processInfo.environment["MAILFERRY_IMAPSYNC"]
    ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent()
    .appendingPathComponent("shared/peers/imapsync").path
  return FileManager.default.fileExists(atPath: script) && Subprocess.exists("perl") ? script : nil
}

/// imapsync, the most used peer (a Perl script kept outside the product), over TLS on both
/// sides as users run it, into `target`, under GNU time; then again with nothing changed.
func migrateWithImapsync(_ source: BenchSource, into target: CopyTarget) throws -> PeerOutcome? {
  guard let script = imapsyncScript else { return nil }
  let directory = try scratchDirectory("imapsync")
  defer { try? FileManager.default.removeItem(atPath: directory) }
  for (name, password) in [("source", source.user.password), ("target", target.user.password)] {
    try password.write(toFile: "\(directory)/\(name).pw", atomically: true, encoding: .utf8)
  }
  return try timePeer(
    "imapsync",
    peakTimer + [
      "perl", script, "--host1", "localhost", "--port1", String(source.server.imapsPort), "--user1",
      source.user.name, "--passfile1", "\(directory)/source.pw", "--ssl1", "--host2", "localhost", "--port2",
      String(target.port), "--user2", target.user.name, "--passfile2", "\(directory)/target.pw", "--ssl2",
      "--nolog", "--noreleasecheck", "--noid", "--tmpdir", directory,
    ], copying: source, rerun: true)
}
