import Foundation
import ServerFixtures
import Testing
import Transport

/// The transport against the private Dovecot: plain, STARTTLS, implicit TLS, DEFLATE, and the
/// ways a connection goes wrong.
@Suite struct TransportIntegrationTests {
  let server: DovecotServer

  init() throws { server = try DovecotServer.shared() }

  var trusted: TLSOptions { TLSOptions(caFile: server.caFile) }

  @Test func plainConnectionSpeaksIMAP() throws {
    let connection = try Connection.open(host: server.host, port: server.imapPort, security: .plain)
    defer { connection.close() }
    #expect(try IMAPLines.greeting(connection).hasPrefix("* OK"))
    let lines = try IMAPLines.command(connection, "a", "CAPABILITY")
    #expect(IMAPLines.isOK(lines))
    #expect(lines.contains { $0.hasPrefix("* CAPABILITY") && $0.contains("STARTTLS") })
    #expect(connection.tlsInfo == nil)
  }

  @Test func startTLSUpgradesALiveConnection() throws {
    let user = try server.createUser()
    let connection = try Connection.open(host: server.host, port: server.imapPort, security: .plain)
    defer { connection.close() }
    _ = try IMAPLines.greeting(connection)
    #expect(IMAPLines.isOK(try IMAPLines.command(connection, "a", "STARTTLS")))
    try connection.startTLS(trusted)
    let info = try #require(connection.tlsInfo)
    #expect(info.protocolVersion == "TLSv1.3" || info.protocolVersion == "TLSv1.2")
    #expect(info.peerSubject.contains("CN=localhost"))
    #expect(info.verified)
    #expect(IMAPLines.isOK(try IMAPLines.command(connection, "b", "LOGIN \(user.name) \(user.password)")))
    #expect(IMAPLines.isOK(try IMAPLines.command(connection, "c", "LOGOUT")))
  }

  @Test func implicitTLSWithThePrivateCA() throws {
    let connection = try Connection.open(host: server.host, port: server.imapsPort, security: .implicitTLS(trusted))
    defer { connection.close() }
    #expect(try IMAPLines.greeting(connection).hasPrefix("* OK"))
    #expect(connection.tlsInfo?.cipher.isEmpty == false)
  }

  @Test func hostNameIsCheckedWithSNI() throws {
    // "localhost" may resolve to ::1 first, where nothing listens: each address is tried.
    let connection = try Connection.open(host: "localhost", port: server.imapsPort, security: .implicitTLS(trusted))
    defer { connection.close() }
    #expect(try IMAPLines.greeting(connection).hasPrefix("* OK"))

    // A server that answers by SNI: only a client that sent "localhost" gets the
    // certificate it trusts; without SNI it gets one from a CA it does not trust.
    let sni = try SNIServer()
    defer { sni.stop() }
    let options = TLSOptions(caFile: sni.certificates.caCertificate)
    let named = try Connection.open(host: "localhost", port: sni.port, security: .implicitTLS(options))
    defer { named.close() }
    #expect(named.tlsInfo?.peerSubject.contains("CN=localhost") == true, "\(String(describing: named.tlsInfo))")
    #expect(named.tlsInfo?.verified == true)
    // An IP literal sends no SNI (RFC 6066 forbids it), so it gets the other certificate.
    #expect(throws: TransportError.self) {
      _ = try Connection.open(host: "127.0.0.1", port: sni.port, security: .implicitTLS(options))
    }
  }

  @Test func systemStoreDoesNotTrustThePrivateCA() throws {
    do {
      _ = try Connection.open(host: server.host, port: server.imapsPort, security: .implicitTLS(.verified))
      Issue.record("a certificate from an unknown CA was accepted")
    } catch let error as TransportError {
      guard case .certificateUntrusted(_, let subject, _) = error else {
        Issue.record("unexpected error: \(error)")
        return
      }
      #expect(subject.contains("localhost"))
      #expect(error.hint?.contains("--ca-file") == true)
      #expect(!error.isTemporary)
    }
  }

  @Test func anotherCAIsNotEnough() throws {
    do {
      _ = try Connection.open(
        host: server.host, port: server.imapsPort,
        security: .implicitTLS(TLSOptions(caFile: server.certificates.otherCACertificate)))
      Issue.record("a certificate signed by a CA we do not trust was accepted")
    } catch let error as TransportError {
      guard case .certificateUntrusted = error else {
        Issue.record("unexpected error: \(error)")
        return
      }
    }
  }

  @Test func hostnameMismatchIsRefused() throws {
    do {
      _ = try Connection.open(
        host: server.host, port: server.imapsPort,
        security: .implicitTLS(TLSOptions(caFile: server.caFile, expectedName: "mail.example.com")))
      Issue.record("a certificate for another name was accepted")
    } catch let error as TransportError {
      guard case .hostnameMismatch(_, let expected, let subject) = error else {
        Issue.record("unexpected error: \(error)")
        return
      }
      #expect(expected == "mail.example.com")
      #expect(subject.contains("localhost"))
    }
  }

  @Test func insecureModeConnectsButSaysItDidNotVerify() throws {
    let connection = try Connection.open(
      host: server.host, port: server.imapsPort, security: .implicitTLS(TLSOptions(insecure: true)))
    defer { connection.close() }
    #expect(try IMAPLines.greeting(connection).hasPrefix("* OK"))
    let info = try #require(connection.tlsInfo)
    #expect(!info.verified)
    #expect(info.verificationNote?.isEmpty == false)
  }

  @Test func tlsOnAPlainPortFailsTheHandshake() throws {
    do {
      _ = try Connection.open(
        host: server.host, port: server.imapPort, security: .implicitTLS(trusted), timeout: .seconds(5))
      Issue.record("TLS against a plaintext port succeeded")
    } catch let error as TransportError {
      guard case .handshakeFailed(_, let reason) = error else {
        Issue.record("unexpected error: \(error)")
        return
      }
      #expect(!reason.isEmpty)
    }
  }

  @Test func refusedConnectionIsNamed() throws {
    let port = try FreePorts.allocate(1)[0]
    #expect(throws: TransportError.connectionRefused(peer: "127.0.0.1:\(port)")) {
      _ = try Connection.open(host: "127.0.0.1", port: port, security: .plain)
    }
  }

  @Test func unknownHostIsNamed() throws {
    do {
      _ = try Connection.open(host: "no-such-host.invalid", port: 143, security: .plain)
      Issue.record("an unresolvable host connected")
    } catch let error as TransportError {
      guard case .hostNotFound(let host, _) = error else {
        Issue.record("unexpected error: \(error)")
        return
      }
      #expect(host == "no-such-host.invalid")
    }
  }

  @Test func silentServerTimesOut() throws {
    let listener = try SilentListener()
    let connection = try Connection.open(
      host: "127.0.0.1", port: listener.port, security: .plain, timeout: .milliseconds(300))
    defer { connection.close() }
    do {
      _ = try connection.readLine()
      Issue.record("a read from a silent server returned")
    } catch let error as TransportError {
      guard case .timedOut(_, _, let seconds) = error else {
        Issue.record("unexpected error: \(error)")
        return
      }
      #expect(seconds == 0.3)
      #expect(error.isTemporary)
    }
  }

  @Test func silentServerTimesOutTheTLSHandshake() throws {
    let listener = try SilentListener()
    do {
      _ = try Connection.open(
        host: "127.0.0.1", port: listener.port, security: .implicitTLS(trusted), timeout: .milliseconds(300))
      Issue.record("a handshake with a silent server completed")
    } catch let error as TransportError {
      guard case .timedOut = error else {
        Issue.record("unexpected error: \(error)")
        return
      }
    }
  }

  @Test func droppedConnectionIsRetryable() throws {
    let user = try server.createUser()
    let connection = try Connection.open(
      host: server.host, port: server.imapsPort, security: .implicitTLS(trusted), timeout: .seconds(20))
    defer { connection.close() }
    _ = try IMAPLines.greeting(connection)
    #expect(IMAPLines.isOK(try IMAPLines.command(connection, "a", "LOGIN \(user.name) \(user.password)")))
    #expect(try server.dropConnections(of: user.name) == 1)
    do {
      while true { _ = try connection.readLine() }  // BYE, then the end of the stream
    } catch let error as TransportError {
      #expect(error == .connectionClosed(peer: connection.peer))
      #expect(error.isTemporary)
    }
  }

  @Test func traceNeverContainsThePassword() throws {
    let user = try server.createUser()
    var text = ""
    let lock = NSLock()
    let trace = ProtocolTrace { line in lock.withLock { text += line } }
    trace.addSecret(user.password)
    let connection = try Connection.open(
      host: server.host, port: server.imapsPort, security: .implicitTLS(trusted), trace: trace)
    defer { connection.close() }
    _ = try IMAPLines.greeting(connection)
    // The LOGIN line is traced with the password replaced by the caller …
    #expect(
      IMAPLines.isOK(
        try IMAPLines.command(
          connection, "a", "LOGIN \(user.name) \(user.password)", trace: .replaced("a LOGIN \(user.name) <redacted>"))))
    // … and a password sent verbatim (an AUTHENTICATE PLAIN payload here) is caught by addSecret.
    let plain = Data("\0\(user.name)\0\(user.password)".utf8).base64EncodedString()
    trace.addSecret(plain)
    _ = try IMAPLines.command(connection, "b", "AUTHENTICATE PLAIN \(plain)")
    _ = try IMAPLines.command(connection, "c", "LOGOUT")
    let recorded = lock.withLock { text }
    #expect(recorded.contains("a LOGIN \(user.name) <redacted>"))
    #expect(recorded.contains("AUTHENTICATE PLAIN <redacted>"))
    #expect(!recorded.contains(user.password))
    #expect(!recorded.contains(plain))
    #expect(!recorded.contains(Data(user.password.utf8).base64EncodedString()))
  }

  @Test func deflateCompressesAnOpenConnection() throws {
    let user = try server.createUser()
    let connection = try Connection.open(host: server.host, port: server.imapsPort, security: .implicitTLS(trusted))
    defer { connection.close() }
    _ = try IMAPLines.greeting(connection)
    let login = try IMAPLines.command(connection, "a", "LOGIN \(user.name) \(user.password)")
    #expect(login.last?.contains("COMPRESS=DEFLATE") == true)
    #expect(IMAPLines.isOK(try IMAPLines.command(connection, "b", "COMPRESS DEFLATE")))
    try connection.startCompression()
    #expect(connection.isCompressed)
    let list = try IMAPLines.command(connection, "c", "LIST \"\" \"*\"")
    #expect(IMAPLines.isOK(list))
    #expect(list.contains { $0.contains("INBOX") })
    #expect(IMAPLines.isOK(try IMAPLines.command(connection, "d", "NOOP")))
  }

  @Test func largeLiteralStreamsInChunks() throws {
    let user = try server.createUser()
    let line = Array("0123456789 a body line of a large message, repeated to make a few megabytes\r\n".utf8)
    var message = Array("From: a@example.org\r\nTo: b@example.org\r\nSubject: big\r\n\r\n".utf8)
    while message.count < 5_000_000 { message += line }
    try server.deliver(message, to: user.name)

    let connection = try Connection.open(host: server.host, port: server.imapsPort, security: .implicitTLS(trusted))
    defer { connection.close() }
    _ = try IMAPLines.greeting(connection)
    _ = try IMAPLines.command(connection, "a", "LOGIN \(user.name) \(user.password)")
    _ = try IMAPLines.command(connection, "b", "EXAMINE INBOX")
    try connection.send("c FETCH 1 BODY.PEEK[]\r\n")
    try connection.flush()
    let header = String(decoding: try connection.readLine(), as: UTF8.self)
    let size = try #require(header.split(separator: "{").last.flatMap { Int($0.dropLast()) })
    #expect(size == message.count)
    var largestChunk = 0
    var received = 0
    var matches = true
    try connection.readBytes(count: size) { chunk in
      largestChunk = max(largestChunk, chunk.count)
      matches = matches && chunk.elementsEqual(message[received..<received + chunk.count])
      received += chunk.count
    }
    #expect(received == message.count)
    #expect(matches)
    #expect(largestChunk <= Connection.defaultChunkSize)
    #expect(String(decoding: try connection.readLine(), as: UTF8.self) == ")")
    #expect(String(decoding: try connection.readLine(), as: UTF8.self).hasPrefix("c OK"))
  }
}
