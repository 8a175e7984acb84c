/// How a connection verifies the server's certificate.
public struct TLSOptions: Sendable, Equatable {
  /// PEM file of CA certificates to trust instead of the system store (a private CA).
  public var caFile: String?
  /// Skip certificate and host name checks. The connection is still encrypted, but anyone
  /// on the path can read it; the CLI warns when this is on.
  public var insecure: Bool
  /// The name the certificate must be valid for, when it differs from the host connected to.
  public var expectedName: String?

  public init(caFile: String? = nil, insecure: Bool = false, expectedName: String? = nil) {
    self.caFile = caFile
    self.insecure = insecure
    self.expectedName = expectedName
  }

  public static let verified = TLSOptions()
}

/// What a TLS handshake negotiated, for display.
public struct TLSSessionInfo: Sendable, Equatable {
  public let protocolVersion: String
  public let cipher: String
  public let peerSubject: String
  public let peerIssuer: String
  /// False only with `insecure`, when the certificate did not check out; `verificationNote`
  /// then says why.
  public let verified: Bool
  public let verificationNote: String?
}
