import Foundation
import ServerFixtures

/// The command line migrating through a rate-limited loopback link: both Dovecots behind
/// proxies that forward the TLS bytes untouched, every connection sharing one budget per
/// direction (`rate` bytes per second each way), with its defaults, `--compress` and
/// `--no-compress`. Shows whether compression pays where the link is the bottleneck.
@MainActor func runSlowLinkSection(
  server: DovecotServer, targetServer: DovecotServer, messages: Int, rate: Int
) throws {
  let source = try BenchSource.populate(
    "slowlink", server: server, folders: ["INBOX", "Archive/2024"], count: messages,
    message: SyntheticMail(seed: 99).message(number:))
  let uplink = SharedLink(bytesPerSecond: rate)
  let downlink = SharedLink(bytesPerSecond: rate)
  let sourceProxy = try TCPProxy(
    upstreamPort: server.imapsPort, clientToServer: { uplink.transform() }, serverToClient: { downlink.transform() })
  defer { sourceProxy.stop() }
  let targetProxy = try TCPProxy(
    upstreamPort: targetServer.imapsPort, clientToServer: { uplink.transform() },
    serverToClient: { downlink.transform() })
  defer { targetProxy.stop() }
  print("")
  print(
    String(
      format: "migrate %d messages (%.1f MB) through a slow link (%.1f MB/s each way, shared by all connections):",
      source.messages, Double(source.bytes) / 1e6, Double(rate) / 1e6))
  var wall: [String: Double] = [:]
  for (label, extra) in [
    ("defaults", [String]()), ("--compress", ["--compress"]), ("--no-compress", ["--no-compress"]),
  ] {
    var target = try CopyTarget(server: targetServer, prefix: "slow")
    target.port = targetProxy.port
    var job = try CommandLineMigration(source: source, target: target, extra: extra)
    job.sourcePort = sourceProxy.port
    defer { job.remove() }
    guard var figures = try job.run() else { continue }
    figures.correctness = source.verify(copyOn: targetServer, user: target.user)
    figures.print("slow link: mailferry CLI, \(label)")
    wall[label] = figures.seconds
  }
  if let on = wall["--compress"], let off = wall["--no-compress"] {
    print(
      "compression on the slow link: \(on < off ? "paid" : "did not pay") "
        + String(format: "(%.2f s with, %.2f s without: %.1fx)", on, off, off / on))
  }
  if let defaults = wall["defaults"], let best = [wall["--compress"], wall["--no-compress"]].compactMap({ $0 }).min() {
    print(String(format: "slow link, defaults / best option: %.2f", best / defaults))
  }
}
