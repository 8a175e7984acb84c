import Foundation

/// A throwaway CA and a server certificate signed by it, made with the openssl command.
public struct TestCertificates: Sendable {
  public let caCertificate: String
  public let serverCertificate: String
  public let serverKey: String
  /// A second CA that signed nothing the servers use: trusting it must not help.
  public let otherCACertificate: String

  /// Creates the files in `directory`. The server certificate is valid for `localhost` and
  /// `127.0.0.1`.
  public static func create(in directory: String) throws -> TestCertificates {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    func path(_ name: String) -> String { "\(directory)/\(name)" }
    let days = "3650"
    for ca in ["ca", "other-ca"] {
      try Subprocess.run([
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("\(ca).key"),
        "-out", path("\(ca).crt"), "-days", days, "-subj", "/O=MailFerry Tests/CN=MailFerry Test \(ca.uppercased())",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      ])
    }
    try Subprocess.run([
      "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"),
      "-subj", "/O=MailFerry Tests/CN=localhost",
    ])
    try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
      .write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
    try Subprocess.run([
      "openssl", "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
      "-CAcreateserial", "-out", path("server.crt"), "-days", days, "-extfile", path("server.ext"),
    ])
    return TestCertificates(
      caCertificate: path("ca.crt"), serverCertificate: path("server.crt"), serverKey: path("server.key"),
      otherCACertificate: path("other-ca.crt"))
  }
}
