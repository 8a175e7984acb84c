import MailCore
import POP3Codec
import Transport

/// A POP3 session (RFC 1939) over one `Connection`: greeting, CAPA (RFC 2449), STLS
/// (RFC 2595), login, and the commands a download needs, pipelined where the server offers
/// PIPELINING. Deletions (DELE) take effect only when QUIT is answered with +OK, so a
/// dropped connection deletes nothing.
///
/// Ownership rule: one thread drives a client at a time (see docs/architecture.md).
public final class POP3Client: @unchecked Sendable {
  public let account: POP3Account
  /// CAPA: name (upper-cased) → arguments. Empty when the server has no CAPA.
  public private(set) var capabilities: [String: [String]] = [:]
  public private(set) var capabilitiesBeforeLogin: [String] = []
  public private(set) var capabilitiesAfterLogin: [String] = []
  public private(set) var greeting = ""
  public private(set) var isAuthenticated = false
  /// The login method that worked, for `probe`.
  public private(set) var loginMethodUsed: String?
  /// Whether QUIT was sent and answered.
  public private(set) var hasQuit = false

  let connection: Connection
  /// How much of one reply is read at most (listings, TOP, a message past its limit).
  public var limits = POP3ResponseLimits()
  private var apopTimestamp: String?
  private var withheld: Set<String> = []
  /// The last status line read, with its response code.
  private var lastStatus: POP3Status?

  public var tlsInfo: TLSSessionInfo? { connection.tlsInfo }
  public var peer: String { connection.peer }

  private init(account: POP3Account, connection: Connection) {
    self.account = account
    self.connection = connection
  }

  // MARK: Connecting

  /// Connects, reads the greeting and capabilities and, for `pop3://`, upgrades with STLS
  /// (required unless `allowPlaintext`).
  public static func connect(
    _ account: POP3Account, trace: ProtocolTrace? = nil, label: String = "pop3"
  ) throws
    -> POP3Client
  {
    let security: ConnectionSecurity = account.security == .implicitTLS ? .implicitTLS(account.tls) : .plain
    let connection = try Connection.open(
      host: account.host, port: account.port, security: security, connectTimeout: account.connectTimeout,
      timeout: account.timeout, trace: trace, traceLabel: label)
    let client = POP3Client(account: account, connection: connection)
    do {
      let status = try client.readStatus(command: "greeting")
      client.greeting = status.text
      client.apopTimestamp = status.apopTimestamp
      try client.refreshCapabilities()
      if account.security == .startTLS {
        if client.has("STLS") {
          _ = try client.command("STLS")
          try connection.startTLS(account.tls)
          try client.refreshCapabilities()
        } else if !account.allowPlaintext {
          throw POP3Error.startTLSUnavailable(peer: connection.peer)
        }
      }
      client.capabilitiesBeforeLogin = client.capabilityLines
      return client
    } catch {
      connection.close()
      throw error
    }
  }

  /// Sends CAPA; a server without it (an -ERR) is taken to offer USER only.
  public func refreshCapabilities() throws {
    try send("CAPA")
    let status = try readStatus(command: "CAPA", failing: false)
    capabilities = status.ok ? POP3Listings.capabilities(try readListing(maxLines: limits.maxCapabilityLines)) : [:]
    for name in withheld { capabilities.removeValue(forKey: name) }
  }

  public func has(_ capability: String) -> Bool { capabilities[capability.uppercased()] != nil }

  /// SASL mechanisms from CAPA.
  /// The least pause between logins the server announced (`LOGIN-DELAY 900`, RFC 2449).
  public var loginDelay: Duration? {
    guard let seconds = capabilities["LOGIN-DELAY"]?.first.flatMap({ Int($0) }), seconds > 0 else { return nil }
    return .seconds(seconds)
  }

  public var saslMechanisms: [String] { (capabilities["SASL"] ?? []).map { $0.uppercased() } }

  var capabilityLines: [String] {
    capabilities.map { ([$0.key] + $0.value).joined(separator: " ") }.sorted()
  }

  /// Behaves as if the server did not offer `capability` (for servers that advertise more
  /// than they do, and for tests of the fallbacks).
  public func withholdCapability(_ capability: String) {
    withheld.insert(capability.uppercased())
    capabilities.removeValue(forKey: capability.uppercased())
  }

  // MARK: Login

  /// Logs in with a credential from `source`: a renewable one (an OAuth2 token command) is
  /// fetched for this login, and fetched once more if the server refuses it.
  public func login(using source: CredentialSource) throws {
    try source.logIn(
      peer: peer, user: account.user, attempt: { try login($0) },
      refusal: { error in
        guard case POP3Error.authenticationFailed(_, _, let text) = error else { return nil }
        return text
      })
  }

  /// Logs in with a password (AUTH PLAIN, USER/PASS or APOP; see `POP3Account.LoginMethod`)
  /// or an OAuth2 token (AUTH XOAUTH2 or OAUTHBEARER). Refuses to send credentials over an
  /// unencrypted connection unless the account allows plaintext.
  public func login(_ credential: Credential) throws {
    guard !isAuthenticated else { return }
    if connection.tlsInfo == nil && !account.allowPlaintext { throw POP3Error.plaintextRefused(peer: peer) }
    connection.trace?.addSecret(credential.secret)
    let user = account.user
    switch credential {
    case .password(let password):
      let method = account.loginMethod
      if method == .plain || (method == .automatic && saslMechanisms.contains("PLAIN")) {
        try authenticate("PLAIN", Array("\0\(user)\0\(password)".utf8))
      } else if method == .user || (method == .automatic && (has("USER") || capabilities.isEmpty)) {
        try authenticated("USER") { try self.command("USER \(user)") }
        try authenticated("PASS") { try self.command("PASS \(password)", traced: "PASS <redacted>") }
        loginMethodUsed = "USER/PASS"
      } else if method == .apop || method == .automatic, let stamp = apopTimestamp {
        let digest = MD5.hex(Array((stamp + password).utf8))
        try authenticated("APOP") { try self.command("APOP \(user) \(digest)", traced: "APOP \(user) <redacted>") }
        loginMethodUsed = "APOP"
      } else {
        throw POP3Error.noUsableAuthentication(peer: peer, offered: offeredMethods)
      }
    case .oauth2Token(let token):
      if saslMechanisms.contains("OAUTHBEARER") {
        try authenticate(
          "OAUTHBEARER", OAuth2SASL.oauthBearer(user: user, host: account.host, port: account.port, token: token))
      } else if saslMechanisms.contains("XOAUTH2") {
        try authenticate("XOAUTH2", OAuth2SASL.xoauth2(user: user, token: token))
      } else {
        throw POP3Error.noUsableAuthentication(peer: peer, offered: offeredMethods)
      }
    }
    isAuthenticated = true
    try refreshCapabilities()
    capabilitiesAfterLogin = capabilityLines
  }

  private var offeredMethods: [String] {
    (has("USER") ? ["USER"] : []) + (apopTimestamp != nil ? ["APOP"] : []) + saslMechanisms.map { "SASL " + $0 }
  }

  /// AUTH with an initial response (RFC 5034). A challenge after it is the server's error
  /// report (XOAUTH2, OAUTHBEARER): answered as the mechanism requires, after which the
  /// -ERR follows.
  private func authenticate(_ mechanism: String, _ initialResponse: [UInt8]) throws {
    try authenticated("AUTH \(mechanism)") {
      try self.send("AUTH \(mechanism) \(Base64.encode(initialResponse))", traced: "AUTH \(mechanism) <redacted>")
      while true {
        switch try self.readReply(command: "AUTH \(mechanism)") {
        case .continuation:
          try self.send(Base64.encode(OAuth2SASL.answerToErrorChallenge(mechanism: mechanism)))
        case .status(let status):
          guard status.ok else {
            throw POP3Error.commandFailed(peer: self.peer, command: "AUTH", serverText: status.text)
          }
          return status
        }
      }
    }
    loginMethodUsed = "AUTH \(mechanism)"
  }

  /// Runs a login step, turning its -ERR into an authentication or busy-mailbox error
  /// (RFC 2449 codes IN-USE, LOGIN-DELAY, SYS/TEMP say the credentials are not the problem).
  private func authenticated(_ step: String, _ body: () throws -> POP3Status) throws {
    do {
      _ = try body()
    } catch POP3Error.commandFailed(_, _, let text) {
      if let status = lastStatus, status.isTemporary {
        let delay = status.code == "LOGIN-DELAY" ? loginDelay : nil
        throw POP3Error.mailboxBusy(peer: peer, serverText: text, loginDelay: delay)
      }
      throw POP3Error.authenticationFailed(peer: peer, user: account.user, serverText: text)
    }
  }

  // MARK: The maildrop

  /// STAT: number of messages and their total size.
  public func stat() throws -> (count: Int, size: Int) {
    let status = try command("STAT")
    do {
      return try POP3Listings.stat(status.text)
    } catch {
      throw POP3Error.protocolViolation(peer: peer, error: error)
    }
  }

  /// LIST: message number → size.
  public func list() throws -> [Int: Int] {
    _ = try command("LIST")
    var sizes: [Int: Int] = [:]
    try readListing { line in
      do throws(POP3ParseError) {
        let entry = try POP3Listings.scanListing(line)
        sizes[entry.number] = entry.size
      } catch {
        throw POP3Error.protocolViolation(peer: peer, error: error)
      }
    }
    return sizes
  }

  /// UIDL: (message number, unique id) in maildrop order, or nil when the server has none.
  public func uniqueIDs() throws -> [(number: Int, uid: String)]? {
    guard !withheld.contains("UIDL") else { return nil }
    try send("UIDL")
    guard try readStatus(command: "UIDL", failing: false).ok else { return nil }
    var result: [(number: Int, uid: String)] = []
    var keptBytes = 0
    try readListing { line in
      do throws(POP3ParseError) {
        let entry = try POP3Listings.uniqueIDListing(line)
        keptBytes += entry.uid.utf8.count
        guard keptBytes <= limits.maxUniqueIDBytes else {
          throw POP3ParseError.listingTooLarge(limit: "\(limits.maxUniqueIDBytes) bytes of unique ids")
        }
        result.append(entry)
      } catch {
        connection.close()  // the rest of the listing is unread: the session is out of step
        throw POP3Error.protocolViolation(peer: peer, error: error)
      }
    }
    return result.sorted { $0.number < $1.number }
  }

  /// TOP: the header and the first `lines` body lines of a message (at most
  /// `limits.maxTopBytes`; a longer reply throws).
  public func top(_ number: Int, lines: Int) throws -> [UInt8] {
    _ = try command("TOP \(number) \(lines)")
    var bytes: [UInt8] = []
    let size = try readBody(into: &bytes, keepingAtMost: UInt64(limits.maxTopBytes))
    guard size <= UInt64(limits.maxTopBytes) else {
      throw POP3Error.protocolViolation(peer: peer, error: .replyTooLarge(limit: UInt64(limits.maxTopBytes)))
    }
    return bytes
  }

  /// RETR of each number, pipelined when the server offers PIPELINING (else one at a
  /// time); each message is handed to `body` whole, in order. A number the server refuses
  /// (-ERR: deleted meanwhile) is skipped. A message longer than `limit(number)` is not
  /// kept: its bytes are read and dropped as they arrive, and `oversized` gets its size.
  /// A message for which `builder` gives a builder is collected in it as it arrives
  /// (dot-unstuffed), which spools it once the bytes received pass its threshold (whatever
  /// LIST said), and handed to `built`.
  public func retrieve(
    _ numbers: [Int], limit: (Int) -> UInt64? = { _ in nil }, oversized: (Int, UInt64) throws -> Void = { _, _ in },
    builder: (Int) throws -> MessageBodyBuilder? = { _ in nil },
    built: (Int, MessageBody) throws -> Void = { _, _ in }, body: (Int, [UInt8]) throws -> Void
  ) throws {
    let window = has("PIPELINING") ? 50 : 1
    var start = 0
    while start < numbers.count {
      let group = numbers[start..<min(start + window, numbers.count)]
      for number in group { try send("RETR \(number)", flush: false) }
      try connection.flush()
      for number in group {
        guard try readStatus(command: "RETR \(number)", failing: false).ok else { continue }
        var bytes: [UInt8] = []
        let keep = limit(number) ?? .max
        let collector = try builder(number)
        let size = try readBody(into: &bytes, keepingAtMost: keep, collectingInto: collector)
        if size > keep {
          try oversized(number, size)
        } else if let collector {
          try built(number, collector.finish())
        } else {
          try body(number, bytes)
        }
      }
      start += window
    }
  }

  /// DELE of each number (pipelined when offered). Nothing is deleted before `quit()`.
  public func delete(_ numbers: [Int]) throws {
    let window = has("PIPELINING") ? 100 : 1
    var start = 0
    while start < numbers.count {
      let group = numbers[start..<min(start + window, numbers.count)]
      for number in group { try send("DELE \(number)", flush: false) }
      try connection.flush()
      for number in group { _ = try readStatus(command: "DELE \(number)") }
      start += window
    }
  }

  public func noop() throws { _ = try command("NOOP") }

  /// RSET: forgets the session's deletions.
  public func reset() throws { _ = try command("RSET") }

  /// QUIT, which commits the session's deletions. Throws when the server does not confirm
  /// it: then nothing was deleted.
  public func quit() throws {
    defer { connection.close() }
    do {
      try send("QUIT")
      let status = try readStatus(command: "QUIT", failing: false)
      guard status.ok else { throw POP3Error.deletionsNotCommitted(peer: peer, reason: "-ERR \(status.text)") }
      hasQuit = true
    } catch let error as TransportError {
      throw POP3Error.deletionsNotCommitted(peer: peer, reason: "\(error)")
    }
  }

  /// QUIT without caring for the answer (nothing was deleted, or the caller gave up).
  public func logout() {
    if !hasQuit { try? quit() }
    connection.close()
  }

  public func close() { connection.close() }

  // MARK: Wire

  private func send(_ line: String, traced: String? = nil, flush: Bool = true) throws {
    try connection.send(line + "\r\n", trace: traced.map { .replaced($0) } ?? .verbatim)
    if flush { try connection.flush() }
  }

  /// Sends a command and returns its +OK; an -ERR throws `commandFailed`.
  @discardableResult
  func command(_ line: String, traced: String? = nil) throws -> POP3Status {
    try send(line, traced: traced)
    return try readStatus(command: traced ?? String(line.prefix { $0 != " " }))
  }

  private func readReply(command: String) throws -> POP3Reply {
    connection.beginResponse()
    let line = try connection.readLine()
    let reply: POP3Reply
    do {
      reply = try POP3Reply.parse(line)
    } catch {
      throw POP3Error.protocolViolation(peer: peer, error: error)
    }
    // Kept for a failed login: its RFC 2449 code says whether the credentials are at fault.
    if case .status(let status) = reply { lastStatus = status }
    return reply
  }

  private func readStatus(command: String, failing: Bool = true) throws -> POP3Status {
    guard case .status(let status) = try readReply(command: command) else {
      throw POP3Error.protocolViolation(peer: peer, error: .notAStatusLine(excerpt: "+ (a challenge)"))
    }
    lastStatus = status
    if failing && !status.ok { throw POP3Error.commandFailed(peer: peer, command: command, serverText: status.text) }
    return status
  }

  /// A multi-line listing (LIST, UIDL, CAPA), handed to `each` line by line as it arrives,
  /// within `limits`.
  private func readListing(maxLines: Int? = nil, _ each: ([UInt8]) throws -> Void) throws {
    var listingLimits = limits
    if let maxLines { listingLimits.maxListingLines = maxLines }
    var splitter = ListingLineSplitter(limits: listingLimits)
    var lines: [[UInt8]] = []
    while !splitter.finished {
      if connection.bufferedCount == 0 { try connection.fill() }
      do {
        let used = try connection.withBufferedBytes { try splitter.feed($0, into: &lines) }
        connection.consume(used)
      } catch let error as POP3ParseError {
        connection.close()
        throw POP3Error.protocolViolation(peer: peer, error: error)
      }
      for line in lines {
        connection.trace?.record(.received, ProtocolTrace.render(line), connection: connection.traceLabel)
        try each(line)
      }
      lines.removeAll(keepingCapacity: true)
    }
  }

  private func readListing(maxLines: Int) throws -> [[UInt8]] {
    var lines: [[UInt8]] = []
    try readListing(maxLines: maxLines) { lines.append($0) }
    return lines
  }

  /// A multi-line body, dot-unstuffed, straight from the connection's buffer. Past
  /// `keepingAtMost` bytes the rest is read and counted but not kept (`output` is left
  /// empty), up to `limits.maxSkippedBytes`. With a `collector`, the kept bytes go into it
  /// as they are decoded. Returns the body's size.
  private func readBody(
    into output: inout [UInt8], keepingAtMost keep: UInt64, collectingInto collector: MessageBodyBuilder? = nil
  ) throws -> UInt64 {
    connection.beginResponse()
    var decoder = DotUnstuffer()
    var skipped: UInt64?
    var collected: UInt64 = 0
    while !decoder.finished {
      if connection.bufferedCount == 0 { try connection.fill() }
      let used = connection.withBufferedBytes { decoder.decode($0, into: &output) }
      connection.consume(used)
      if let collector, skipped == nil, collected + UInt64(output.count) <= keep, !output.isEmpty {
        try collector.append(output)
        collected += UInt64(output.count)
        output.removeAll(keepingCapacity: true)
      }
      if skipped != nil || collected + UInt64(output.count) > keep {
        let total = (skipped ?? collected) + UInt64(output.count)
        skipped = total
        output.removeAll(keepingCapacity: true)
        if total > limits.maxSkippedBytes {
          connection.close()
          throw POP3Error.protocolViolation(peer: peer, error: .replyTooLarge(limit: limits.maxSkippedBytes))
        }
      }
    }
    let size = skipped ?? collected + UInt64(output.count)
    connection.trace?.record(.received, "[\(size) bytes]", connection: connection.traceLabel)
    return size
  }
}
