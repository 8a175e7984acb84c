import MailCore
import SMTPCodec
import Transport

/// An SMTP (RFC 5321) or LMTP (RFC 2033) session over one `Connection`: greeting,
/// EHLO/LHLO (HELO fallback), STARTTLS (RFC 3207), AUTH, and message transactions with
/// PIPELINING (RFC 2920), SIZE, 8BITMIME, SMTPUTF8 and CHUNKING/BDAT (RFC 3030) when offered.
///
/// Ownership rule: one thread drives a client at a time (see docs/architecture.md).
public final class SMTPClient: @unchecked Sendable {
  public let account: SMTPAccount
  public private(set) var greeting: SMTPReply?
  public private(set) var extensions = SMTPExtensions()
  /// EHLO/LHLO keywords before STARTTLS and login, for `probe`.
  public private(set) var extensionsBeforeLogin: [String] = []
  public private(set) var loginMethodUsed: String?
  /// Whether the server only understood HELO (no extensions at all).
  public private(set) var usedHELO = false

  let connection: Connection
  private var withheld: Set<String> = []

  public var tlsInfo: TLSSessionInfo? { connection.tlsInfo }
  public var peer: String { connection.peer }

  private init(account: SMTPAccount, connection: Connection) {
    self.account = account
    self.connection = connection
  }

  /// Connects, reads the greeting, introduces itself and upgrades with STARTTLS as the
  /// account's security says.
  public static func connect(
    _ account: SMTPAccount, trace: ProtocolTrace? = nil, label: String? = nil
  ) throws
    -> SMTPClient
  {
    let security: ConnectionSecurity = account.security == .implicitTLS ? .implicitTLS(account.tls) : .plain
    let connection = try Connection.open(
      host: account.host, port: account.port, security: security, connectTimeout: account.connectTimeout,
      timeout: account.timeout, trace: trace, traceLabel: label ?? account.dialect.rawValue)
    let client = SMTPClient(account: account, connection: connection)
    do {
      let greeting = try client.readReply()
      client.greeting = greeting
      guard greeting.code == 220 else { throw SMTPError.serviceUnavailable(peer: connection.peer, reply: greeting) }
      try client.hello()
      let wantsTLS = account.security == .startTLS || account.security == .startTLSIfOffered
      if wantsTLS && client.extensions.has("STARTTLS") {
        try client.expect("STARTTLS", code: 220)
        try connection.startTLS(account.tls)
        try client.hello()
      } else if account.security == .startTLS && !account.allowPlaintext {
        throw SMTPError.startTLSUnavailable(peer: connection.peer)
      }
      client.extensionsBeforeLogin = client.extensions.keywords.map { ([$0.key] + $0.value).joined(separator: " ") }
        .sorted()
      return client
    } catch {
      connection.close()
      throw error
    }
  }

  /// EHLO or LHLO; HELO when an SMTP server does not know EHLO.
  private func hello() throws {
    let verb = account.dialect == .lmtp ? "LHLO" : "EHLO"
    try send("\(verb) \(account.clientName)")
    let reply = try readReply()
    if reply.code == 250 {
      extensions = SMTPExtensions(ehloReply: reply)
      for keyword in withheld { extensions.keywords.removeValue(forKey: keyword) }
      return
    }
    guard account.dialect == .smtp, reply.isPermanent else {
      throw SMTPError.commandFailed(peer: peer, command: verb, reply: reply)
    }
    try expect("HELO \(account.clientName)", code: 250)
    extensions = SMTPExtensions()
    usedHELO = true
  }

  /// Behaves as if the server did not offer `keyword` (for tests of the fallbacks).
  public func withholdExtension(_ keyword: String) {
    withheld.insert(keyword.uppercased())
    extensions.keywords.removeValue(forKey: keyword.uppercased())
  }

  // MARK: Login

  /// Logs in with a credential from `source`: a renewable one (an OAuth2 token command) is
  /// fetched for this login, and fetched once more if the server refuses it (a 5xx; a 4xx
  /// asks to be tried later and is not a refusal).
  public func login(using source: CredentialSource) throws {
    guard let user = account.user else { return }
    try source.logIn(
      peer: peer, user: user, attempt: { try login($0) },
      refusal: { error in
        guard case SMTPError.authenticationFailed(_, _, let reply) = error, !reply.isTransient else { return nil }
        return reply.description
      })
  }

  /// AUTH PLAIN or LOGIN with a password, XOAUTH2 or OAUTHBEARER with a token. Refuses
  /// to send credentials over an unencrypted connection unless plaintext is allowed.
  public func login(_ credential: Credential) throws {
    guard let user = account.user else { return }
    if connection.tlsInfo == nil && !account.allowPlaintext { throw SMTPError.plaintextRefused(peer: peer) }
    connection.trace?.addSecret(credential.secret)
    let offered = extensions.authMechanisms
    var reply: SMTPReply
    switch credential {
    case .password(let password):
      let method = account.loginMethod
      if offered.contains("PLAIN") && method != .login {
        reply = try command(
          "AUTH PLAIN \(Base64.encode(Array("\0\(user)\0\(password)".utf8)))", traced: "AUTH PLAIN <redacted>")
        loginMethodUsed = "AUTH PLAIN"
      } else if offered.contains("LOGIN") && method != .plain {
        reply = try command("AUTH LOGIN")
        if reply.code == 334 { reply = try command(Base64.encode(Array(user.utf8)), traced: "<redacted>") }
        if reply.code == 334 { reply = try command(Base64.encode(Array(password.utf8)), traced: "<redacted>") }
        loginMethodUsed = "AUTH LOGIN"
      } else {
        throw SMTPError.noUsableAuthentication(peer: peer, offered: offered)
      }
    case .oauth2Token(let token):
      let payload: [UInt8]
      if offered.contains("OAUTHBEARER") {
        payload = OAuth2SASL.oauthBearer(user: user, host: account.host, port: account.port, token: token)
        loginMethodUsed = "AUTH OAUTHBEARER"
      } else if offered.contains("XOAUTH2") {
        payload = OAuth2SASL.xoauth2(user: user, token: token)
        loginMethodUsed = "AUTH XOAUTH2"
      } else {
        throw SMTPError.noUsableAuthentication(peer: peer, offered: offered)
      }
      let mechanism = loginMethodUsed!.dropFirst(5)
      reply = try command("AUTH \(mechanism) \(Base64.encode(payload))", traced: "AUTH \(mechanism) <redacted>")
      // An error challenge (334 with a JSON status) is answered as the mechanism requires
      // (^A for OAUTHBEARER, empty for XOAUTH2); the failure follows.
      if reply.code == 334 {
        reply = try command(Base64.encode(OAuth2SASL.answerToErrorChallenge(mechanism: String(mechanism))))
      }
    }
    guard reply.code == 235 else { throw SMTPError.authenticationFailed(peer: peer, user: user, reply: reply) }
  }

  // MARK: Transactions

  /// What became of one message for each recipient.
  public struct Delivery: Sendable, Equatable {
    /// Recipient → the server's final reply for it (RCPT refusal, or the reply to the data).
    public var replies: [(recipient: String, reply: SMTPReply)]
    public var delivered: [String] { replies.filter { $0.reply.isPositive }.map(\.recipient) }
    public var transientFailures: [String] { replies.filter { $0.reply.isTransient }.map(\.recipient) }
    public var permanentFailures: [(recipient: String, reply: SMTPReply)] { replies.filter { $0.reply.isPermanent } }

    public static func == (lhs: Delivery, rhs: Delivery) -> Bool {
      lhs.replies.map(\.recipient) == rhs.replies.map(\.recipient)
        && lhs.replies.map(\.reply) == rhs.replies.map(\.reply)
    }
  }

  /// Sends one message to `recipients` from `sender` ("" for the null sender). Refuses
  /// locally (every recipient gets a synthetic 552) what is larger than the server's SIZE.
  /// Uses BDAT when CHUNKING is offered (the bytes go unchanged), else DATA with
  /// dot-stuffing. Pipelines MAIL, RCPT and DATA when PIPELINING is offered.
  public func send(_ message: [UInt8], from sender: String, to recipients: [String]) throws -> Delivery {
    try send(MessageBody.inMemory(message), from: sender, to: recipients)
  }

  /// `send`, for a body in memory or spooled: a spooled one is read from its file in chunks
  /// (and dot-stuffed chunk by chunk for DATA), never held whole.
  public func send(_ message: MessageBody, from sender: String, to recipients: [String]) throws -> Delivery {
    if let limit = extensions.sizeLimit, message.count > limit {
      let reply = SMTPReply(
        code: 552, enhancedCode: "5.3.4",
        lines: ["message of \(message.count) bytes exceeds the server's limit of \(limit) (not sent)"])
      return Delivery(replies: recipients.map { ($0, reply) })
    }
    if !(sender.isEmpty || EnvelopeAddress.isSafe(sender)) || !recipients.allSatisfy(EnvelopeAddress.isSafe) {
      // Checked before here; a second guard so nothing can add to or end the command.
      let reply = SMTPReply(
        code: 553, enhancedCode: "5.1.7", lines: ["not sent: an envelope address would change the SMTP command"])
      return Delivery(replies: recipients.map { ($0, reply) })
    }
    var parameters = ""
    if extensions.has("SIZE") { parameters += " SIZE=\(message.count)" }
    let eightBit = try Self.hasEightBitBytes(message)
    if eightBit && extensions.has("8BITMIME") { parameters += " BODY=8BITMIME" }
    if eightBit && extensions.has("SMTPUTF8") && (sender + recipients.joined()).utf8.contains(where: { $0 >= 0x80 }) {
      parameters += " SMTPUTF8"
    }
    let chunking = extensions.has("CHUNKING")
    let pipelining = extensions.has("PIPELINING")

    try send("MAIL FROM:<\(sender)>\(parameters)", flush: !pipelining)
    if !pipelining {
      let mail = try readReply()
      guard mail.isPositive else { return try abandon(mail, recipients: recipients) }
    }
    var rcptReplies: [SMTPReply] = []
    for recipient in recipients {
      try send("RCPT TO:<\(recipient)>", flush: !pipelining)
      if !pipelining { rcptReplies.append(try readReply()) }
    }
    if pipelining {
      try connection.flush()
      let mail = try readReply()
      for _ in recipients { rcptReplies.append(try readReply()) }
      guard mail.isPositive else { return try abandon(mail, recipients: recipients) }
    }
    let accepted = zip(recipients, rcptReplies).filter { $0.1.isPositive }.map(\.0)
    var replies: [String: SMTPReply] = Dictionary(
      zip(recipients, rcptReplies).filter { !$0.1.isPositive }.map { ($0.0, $0.1) }, uniquingKeysWith: { $1 })
    guard !accepted.isEmpty else {
      try resetTransaction()
      return Delivery(replies: recipients.map { ($0, replies[$0]!) })
    }

    let finals: [SMTPReply]
    if chunking {
      try connection.send("BDAT \(message.count) LAST\r\n")
      try sendChunks(of: message) { try connection.send($0, trace: $1) }
      try connection.flush()
      finals = try readDataReplies(accepted.count)
    } else {
      try send("DATA")
      let go = try readReply()
      guard go.code == 354 else {
        for recipient in accepted { replies[recipient] = go }
        try resetTransaction()
        return Delivery(replies: recipients.map { ($0, replies[$0]!) })
      }
      var stuffer = DotStuffingStream()
      var stuffed: [UInt8] = []
      try sendChunks(of: message) { chunk, trace in
        stuffed.removeAll(keepingCapacity: true)
        stuffer.stuff(chunk, into: &stuffed)
        try connection.send(stuffed, trace: trace)
      }
      stuffed.removeAll()
      stuffer.finish(into: &stuffed)
      try connection.send(stuffed, trace: .omitted)
      try connection.flush()
      finals = try readDataReplies(accepted.count)
    }
    for (index, recipient) in accepted.enumerated() {
      replies[recipient] = account.dialect == .lmtp ? finals[index] : finals[0]
    }
    return Delivery(replies: recipients.map { ($0, replies[$0]!) })
  }

  /// Hands the message to `send` chunk by chunk, traced once as `[N bytes]`.
  private func sendChunks(
    of message: MessageBody, _ send: (UnsafeRawBufferPointer, TraceText) throws -> Void
  ) throws {
    var trace = TraceText.replaced("[\(message.count) bytes]")
    try message.forEachChunk { chunk in
      try send(chunk, trace)
      trace = .omitted
    }
  }

  private static func hasEightBitBytes(_ message: MessageBody) throws -> Bool {
    var found = false
    try message.forEachChunk { chunk in
      if !found { found = chunk.contains { $0 >= 0x80 } }
    }
    return found
  }

  /// SMTP answers the data once; LMTP once per accepted recipient, in RCPT order.
  private func readDataReplies(_ accepted: Int) throws -> [SMTPReply] {
    let count = account.dialect == .lmtp ? accepted : 1
    return try (0..<count).map { _ in try readReply() }
  }

  /// MAIL was refused: the same answer for every recipient, and the transaction reset. A
  /// throttling refusal throws instead, so the engine waits and tries again.
  private func abandon(_ reply: SMTPReply, recipients: [String]) throws -> Delivery {
    try resetTransaction()
    if reply.isThrottling { throw SMTPError.throttled(peer: peer, command: "MAIL FROM", reply: reply) }
    return Delivery(replies: recipients.map { ($0, reply) })
  }

  private func resetTransaction() throws {
    try send("RSET")
    _ = try readReply()
  }

  public func noop() throws { try expect("NOOP", code: 250) }

  /// QUIT and close; errors are ignored (the messages were acknowledged one by one).
  public func quit() {
    if (try? send("QUIT")) != nil { _ = try? readReply() }
    connection.close()
  }

  public func close() { connection.close() }

  // MARK: Wire

  private func send(_ line: String, traced: String? = nil, flush: Bool = true) throws {
    try connection.send(line + "\r\n", trace: traced.map { .replaced($0) } ?? .verbatim)
    if flush { try connection.flush() }
  }

  private func command(_ line: String, traced: String? = nil) throws -> SMTPReply {
    try send(line, traced: traced)
    return try readReply()
  }

  private func expect(_ line: String, code: Int) throws {
    let reply = try command(line)
    guard reply.code == code else {
      throw SMTPError.commandFailed(peer: peer, command: String(line.prefix { $0 != " " }), reply: reply)
    }
  }

  /// One complete reply; a 421 (the server is closing) ends the session with an error.
  private func readReply() throws -> SMTPReply {
    connection.beginResponse()
    var reader = SMTPReplyReader()
    while true {
      let line = try connection.readLine()
      let reply: SMTPReply?
      do {
        reply = try reader.feed(line)
      } catch {
        throw SMTPError.protocolViolation(peer: peer, error: error)
      }
      if let reply {
        if reply.code == 421 { throw SMTPError.serviceUnavailable(peer: peer, reply: reply) }
        return reply
      }
    }
  }
}
