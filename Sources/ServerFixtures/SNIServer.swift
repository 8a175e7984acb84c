import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `openssl s_server` on loopback with two certificates, so a client's SNI is visible in
/// what it gets back: a client that sends the name `localhost` gets the server certificate
/// (valid for `localhost`, signed by `certificates.caCertificate`); a client that sends no
/// SNI, or another name, gets the second CA's self-signed certificate, which no client
/// trusting only the first CA accepts.
public final class SNIServer {
  public let port: Int
  public let certificates: TestCertificates
  private let pid: pid_t
  private let directory: String

  public init() throws {
    directory = NSTemporaryDirectory() + "mailferry-sni-\(UUID().uuidString)"
    certificates = try TestCertificates.create(in: directory)
    port = try FreePorts.allocate(1)[0]
    let otherKey = (certificates.otherCACertificate as NSString).deletingPathExtension + ".key"
    pid = try Subprocess.start(
      [
        "openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificates.otherCACertificate, "-key",
        otherKey, "-cert2", certificates.serverCertificate, "-key2", certificates.serverKey, "-servername",
        "localhost", "-quiet",
      ], logFile: directory + "/s_server.log")
    let started = ContinuousClock.now
    while !LoopbackProbe.accepts(port: port) {
      guard ContinuousClock.now - started < .seconds(10) else {
        stop()
        throw FixtureError("openssl s_server did not listen on port \(port); see \(directory)/s_server.log")
      }
      usleep(20_000)
    }
  }

  deinit { stop() }

  /// Ends the server and removes its files.
  public func stop() {
    kill(pid, SIGTERM)
    _ = Subprocess.wait(for: pid)
    try? FileManager.default.removeItem(atPath: directory)
  }
}
