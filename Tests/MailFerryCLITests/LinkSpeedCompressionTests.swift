import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// COMPRESS=DEFLATE by default only where it pays: off on a fast link (loopback), on once
/// the first transfers show a slow one (a proxy that carries 1 MiB/s).
@Suite struct LinkSpeedCompressionTests {
  let server: DovecotServer
  let directory: String

  init() throws {
    server = try DovecotServer.shared()
    directory = NSTemporaryDirectory() + "mailferry-link-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  func user(_ prefix: String, messages: Int = 0) throws -> (DovecotServer.User, String) {
    let user = try server.createUser(prefix)
    let password = "\(directory)/\(user.name).pw"
    try Data(user.password.utf8).write(to: URL(fileURLWithPath: password))
    chmod(password, 0o600)
    if messages > 0 {
      let client = try IMAPClient.connect(
        IMAPAccount(host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile)))
      try client.login(.password(user.password))
      try client.append(
        (1...messages).map { number in
          MessageToStore(
            bytes: Array(
              ("Subject: \(number)\r\nMessage-ID: <\(number)@link>\r\n\r\n"
                + String(repeating: "A line of mail that deflates well, number \(number).\r\n", count: 1_200)).utf8))
        }, to: MailboxName("INBOX"))
      client.logout()
    }
    return (user, password)
  }

  func migrate(
    from sourcePort: Int, _ source: (DovecotServer.User, String), to target: (DovecotServer.User, String)
  )
    throws -> (run: CapturedRun, trace: String)
  {
    let trace = "\(directory)/\(target.0.name).trace"
    let run = CapturedRun([
      "migrate", "imaps://\(source.0.name)@localhost:\(sourcePort)",
      "imaps://\(target.0.name)@localhost:\(server.imapsPort)", "--source-password-file", source.1,
      "--target-password-file", target.1, "--ca-file", server.caFile, "--state", "\(directory)/\(target.0.name).sqlite",
      "--connections", "1", "--trace", trace,
    ])
    return (run, (try? String(contentsOfFile: trace, encoding: .utf8)) ?? "")
  }

  @Test func compressionOnlyWhereTheLinkIsSlow() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = try user("lsrc", messages: 40)  // about 2.6 MB

    let sentCompress = { (trace: String, side: String) in
      trace.split(separator: "\n").contains {
        $0.contains("[\(side)] C: ") && $0.hasSuffix(" COMPRESS DEFLATE")
      }
    }
    // Loopback: each side measures its link and decides by the rule (on a loaded machine
    // even loopback can measure slow, so the test checks the decision against the figure).
    let fast = try migrate(from: server.imapsPort, source, to: try user("lfast"))
    #expect(fast.run.status == .success, "\(fast.run.err)")
    for (side, uploading) in [("source", false), ("target", true)] {
      let note = try #require(
        fast.trace.split(separator: "\n").first { $0.contains("[\(side)] -- COMPRESS=DEFLATE") }, "\(side)")
      let figure = try #require(
        note.range(of: "moved ").flatMap { Double(note[$0.upperBound...].prefix { $0.isNumber || $0 == "." }) })
      #expect(sentCompress(fast.trace, side) == IMAPClient.compressionPays(rate: figure * 1e6, uploading: uploading))
    }

    let proxy = try TCPProxy(
      upstreamPort: server.imapsPort, serverToClient: { SlowLink(bytesPerSecond: 1 << 20) })
    defer { proxy.stop() }
    let slowTarget = try user("lslow")
    let slow = try migrate(from: proxy.port, source, to: slowTarget)
    #expect(slow.run.status == .success, "\(slow.run.err)")
    #expect(slow.trace.contains("[source] -- COMPRESS=DEFLATE on: the link moved"), "\(slow.trace.suffix(2000))")
    #expect(sentCompress(slow.trace, "source"))
    // Everything arrived: a second run finds nothing to copy.
    let again = try migrate(from: proxy.port, source, to: slowTarget)
    #expect(again.run.status == .success, "\(again.run.err)")
    #expect(again.run.out.split(separator: "\n").last { $0.contains("total") }?.split(separator: " ").first == "0")
  }
}
