import IMAPCodec
import MailCore
import Transport

/// An IMAP session over one `Connection`: greeting, STARTTLS, login, COMPRESS, and the
/// commands the engine needs, with pipelining.
///
/// Ownership rule: one thread drives a client at a time (see docs/architecture.md).
/// Untagged responses that arrive at any time (EXISTS, EXPUNGE, alerts) go to
/// `unsolicited`; a BYE ends the session with `IMAPError.serverClosed`.
public final class IMAPClient: @unchecked Sendable {
  public let account: IMAPAccount
  public private(set) var capabilities: Set<String> = []
  /// What the server offered before STARTTLS and login, for `probe`.
  public private(set) var capabilitiesBeforeLogin: [String] = []
  public private(set) var capabilitiesAfterLogin: [String] = []
  public private(set) var greeting = ""
  public private(set) var isAuthenticated = false
  public private(set) var enabled: Set<String> = []
  /// The first `maxKeptAlerts` server alerts (`[ALERT]`), each cut to `maxAlertLength`
  /// characters: shown to the user. A server cannot fill memory with them.
  public private(set) var alerts: [String] = []
  /// Alerts that arrived after `maxKeptAlerts` were kept: counted, not kept.
  public private(set) var alertsNotKept = 0
  public static let maxKeptAlerts = 20
  public static let maxAlertLength = 1000
  /// Use LITERAL+ / LITERAL- when offered (tests turn it off to exercise the `+` wait).
  public var useNonSynchronisingLiterals = true {
    didSet { updateEncoder() }
  }
  /// Called with untagged responses no command asked for.
  public var unsolicited: ((UntaggedResponse) -> Void)?

  let connection: Connection
  private var parser = ResponseParser()
  private var encoder: CommandEncoder
  private var tagCounter = 0
  private var bodyConsumer: BodyConsumer?
  private var streamedBodyBytes = 0

  public var tlsInfo: TLSSessionInfo? { connection.tlsInfo }
  public var isCompressed: Bool { connection.isCompressed }
  public var peer: String { connection.peer }

  private init(account: IMAPAccount, connection: Connection) {
    self.account = account
    self.connection = connection
    encoder = CommandEncoder(capabilities: [])
  }

  // MARK: Connecting

  /// Connects, reads the greeting and, for `imap://`, upgrades with STARTTLS (required
  /// unless `allowPlaintext`). Capabilities are known when this returns.
  public static func connect(
    _ account: IMAPAccount, trace: ProtocolTrace? = nil, label: String = "imap"
  )
    throws -> IMAPClient
  {
    let security: ConnectionSecurity = account.security == .implicitTLS ? .implicitTLS(account.tls) : .plain
    let connection = try Connection.open(
      host: account.host, port: account.port, security: security, connectTimeout: account.connectTimeout,
      timeout: account.timeout, trace: trace, traceLabel: label)
    let client = IMAPClient(account: account, connection: connection)
    do {
      try client.readGreeting()
      if account.security == .startTLS {
        if client.capabilities.contains("STARTTLS") {
          try client.run(.startTLS)
          try connection.startTLS(account.tls)
          client.capabilities = []
          try client.refreshCapabilities()
        } else if !account.allowPlaintext {
          throw IMAPError.startTLSUnavailable(peer: connection.peer)
        }
      }
      client.capabilitiesBeforeLogin = client.capabilities.sorted()
      return client
    } catch {
      connection.close()
      throw error
    }
  }

  private func readGreeting() throws {
    guard case .untagged(.status(let status)) = try nextResponse() else {
      throw IMAPError.protocolViolation(
        peer: peer, error: .malformed(reason: "expected a greeting", excerpt: ""))
    }
    greeting = status.text
    switch status.kind {
    case .bye: throw IMAPError.serverClosed(peer: peer, text: status.text)
    case .preauth: isAuthenticated = true
    case .ok: break
    default:
      throw IMAPError.protocolViolation(peer: peer, error: .malformed(reason: "greeting", excerpt: status.text))
    }
    if case .capability(let list)? = status.code {
      setCapabilities(list)
    } else {
      try refreshCapabilities()
    }
  }

  /// Sends CAPABILITY and records the answer.
  public func refreshCapabilities() throws {
    var list: [String] = []
    try run(.capability) { if case .capability(let found) = $0 { list = found } }
    setCapabilities(list)
  }

  private func setCapabilities(_ list: [String]) {
    capabilities = Set(list.map { $0.uppercased() })
    updateEncoder()
  }

  private func updateEncoder() {
    var offered = capabilities
    if !useNonSynchronisingLiterals { offered.subtract(["LITERAL+", "LITERAL-"]) }
    encoder = CommandEncoder(capabilities: offered, utf8Accepted: enabled.contains("UTF8=ACCEPT"))
  }

  public func has(_ capability: String) -> Bool { capabilities.contains(capability.uppercased()) }

  /// Behaves as if the server did not offer `capability` (a workaround for servers that
  /// advertise more than they do, and for tests of the fallbacks).
  public func withholdCapability(_ capability: String) {
    capabilities.remove(capability.uppercased())
    updateEncoder()
  }

  // MARK: Login

  /// Logs in with a credential from `source`: a renewable one (an OAuth2 token command) is
  /// fetched for this login, and fetched once more if the server refuses it.
  public func login(using source: CredentialSource) throws {
    try source.logIn(
      peer: peer, user: account.user, attempt: { try login($0) },
      refusal: { error in
        guard case IMAPError.authenticationFailed(_, _, let text) = error else { return nil }
        return text
      })
  }

  /// Logs in with a password (AUTHENTICATE PLAIN when offered, else LOGIN) or an OAuth2
  /// token (XOAUTH2 or OAUTHBEARER). Refuses a password on an unencrypted connection unless
  /// the account allows plaintext. Re-reads capabilities afterwards.
  public func login(_ credential: Credential) throws {
    guard !isAuthenticated else { return }
    if connection.tlsInfo == nil && !account.allowPlaintext { throw IMAPError.plaintextRefused(peer: peer) }
    connection.trace?.addSecret(credential.secret)
    let user = account.user
    let command: Command
    var answerToChallenge = ""
    switch credential {
    case .password(let password):
      let method = account.loginMethod
      if method == .plain || (method == .automatic && has("AUTH=PLAIN") && has("SASL-IR")) {
        command = .authenticate(mechanism: "PLAIN", initialResponse: Array("\0\(user)\0\(password)".utf8))
      } else if method == .login || !has("LOGINDISABLED") {
        command = .login(user: user, password: password)
      } else {
        throw IMAPError.noUsableAuthentication(
          peer: peer, offered: capabilities.filter { $0.hasPrefix("AUTH=") }.sorted())
      }
    case .oauth2Token(let token):
      if has("AUTH=OAUTHBEARER") && has("SASL-IR") {
        command = .authenticate(
          mechanism: "OAUTHBEARER",
          initialResponse: OAuth2SASL.oauthBearer(user: user, host: account.host, port: account.port, token: token))
        answerToChallenge = Base64.encode(OAuth2SASL.answerToErrorChallenge(mechanism: "OAUTHBEARER"))
      } else if has("AUTH=XOAUTH2") && has("SASL-IR") {
        command = .authenticate(mechanism: "XOAUTH2", initialResponse: OAuth2SASL.xoauth2(user: user, token: token))
      } else {
        throw IMAPError.noUsableAuthentication(
          peer: peer, offered: capabilities.filter { $0.hasPrefix("AUTH=") }.sorted())
      }
    }
    let status: ResponseStatus
    do {
      status = try run(
        command,
        onContinuation: { [connection] _ in
          // A SASL error challenge: answered (empty, or ^A for OAUTHBEARER) so the server
          // sends its NO.
          try connection.send(answerToChallenge + "\r\n")
          try connection.flush()
        })
    } catch IMAPError.commandFailed(_, _, let failed) where IMAPThrottling.isThrottling(failed) {
      // "User is authenticated but not connected", [UNAVAILABLE]: the server, not the
      // credentials; the password never appears in the error.
      throw IMAPError.commandFailed(peer: peer, command: "login", status: failed)
    } catch IMAPError.commandFailed(_, _, let failed) where failed.kind == .no {
      throw IMAPError.authenticationFailed(peer: peer, user: user, serverText: failed.text)
    } catch IMAPError.commandFailed(_, _, let failed) where failed.kind == .bad {
      throw IMAPError.authenticationFailed(peer: peer, user: user, serverText: failed.text)
    }
    isAuthenticated = true
    if case .capability(let list)? = status.code {
      setCapabilities(list)
    } else {
      try refreshCapabilities()
    }
    capabilitiesAfterLogin = capabilities.sorted()
  }

  /// Turns on COMPRESS=DEFLATE when offered and wanted from the start (`.always`).
  /// Returns whether it is on.
  @discardableResult
  public func startCompressionIfOffered() throws -> Bool {
    guard account.compression == .always else { return connection.isCompressed }
    return try startCompression()
  }

  /// Sends COMPRESS DEFLATE when offered and not on yet. Returns whether it is on.
  func startCompression() throws -> Bool {
    guard has("COMPRESS=DEFLATE"), !connection.isCompressed else { return connection.isCompressed }
    try run(.compressDeflate)
    try connection.startCompression()
    return true
  }

  /// What `.automatic` compression has measured so far (see IMAPClient+LinkSpeed.swift).
  var linkSample = LinkSample()

  /// ENABLEs what is offered among `extensions` (CONDSTORE, QRESYNC, UTF8=ACCEPT).
  @discardableResult
  public func enable(_ extensions: [String]) throws -> Set<String> {
    let offered = extensions.filter { has($0) || ($0 == "UTF8=ACCEPT" && has("UTF8=ONLY")) }
    guard !offered.isEmpty, has("ENABLE") else { return enabled }
    try run(.enable(offered)) {
      if case .enabled(let list) = $0 { self.enabled.formUnion(list.map { $0.uppercased() }) }
    }
    encoder = CommandEncoder(capabilities: capabilities, utf8Accepted: enabled.contains("UTF8=ACCEPT"))
    return enabled
  }

  /// Sends ID (RFC 2971) when offered and returns the server's answer.
  @discardableResult
  public func identify(_ parameters: [(String, String)] = [("name", "MailFerry")]) throws -> [String: String] {
    guard has("ID") else { return [:] }
    var answer: [String: String] = [:]
    try run(.id(parameters)) { if case .id(let fields) = $0 { answer = fields } }
    return answer
  }

  public func namespace() throws -> NamespaceResponse? {
    guard has("NAMESPACE") else { return nil }
    var result: NamespaceResponse?
    try run(.namespace) { if case .namespace(let found) = $0 { result = found } }
    return result
  }

  /// The decoded prefix of the first personal namespace; empty without NAMESPACE.
  public func personalPrefix() throws -> String {
    guard let prefix = try namespace()?.personal.first?.prefix else { return "" }
    return enabled.contains("UTF8=ACCEPT") ? prefix : ((try? ModifiedUTF7.decode(prefix)) ?? prefix)
  }

  public func noop() throws { try run(.noop) }

  /// LOGOUT and close. Errors are ignored: the session is over either way.
  public func logout() {
    _ = try? run(.logout)
    connection.close()
  }

  public func close() { connection.close() }

  // MARK: Running commands

  /// Sends `command` and reads until its tagged reply. `onData` sees the untagged responses
  /// that arrive meanwhile; `onBody` receives streamed body sections. Throws
  /// `IMAPError.commandFailed` on NO or BAD.
  @discardableResult
  public func run(
    _ command: Command, onData: (UntaggedResponse) throws -> Void = { _ in },
    onBody: BodyConsumer? = nil, onContinuation: ((String) throws -> Void)? = nil
  ) throws -> ResponseStatus {
    let tag = try send(command)
    return try waitFor(tag: tag, command: command.name, onData: onData, onBody: onBody, onContinuation: onContinuation)
  }

  /// Sends a command without waiting for its reply (pipelining); returns its tag. A
  /// synchronising literal waits here for the server's `+`.
  public func send(_ command: Command) throws -> String {
    tagCounter += 1
    let tag = "M\(tagCounter)"
    let encoded = encoder.encode(command, tag: tag)
    // One trace line per stretch sent without waiting, with secrets and literals replaced;
    // rendered only when a trace is kept (for long UID sets it costs more than the sending).
    let tracing = connection.trace != nil
    var traced = ""
    func recordTrace() {
      if traced.hasSuffix("\\r\\n") { traced.removeLast(4) }
      if !traced.isEmpty { connection.trace?.record(.sent, traced, connection: connection.traceLabel) }
      traced = ""
    }
    for segment in encoded.segments {
      switch segment {
      case .text(let bytes):
        if tracing { traced += ProtocolTrace.render(bytes) }
        try connection.send(bytes, trace: .omitted)
      case .secret(let bytes, let traceAs):
        if tracing { traced += traceAs }
        try connection.send(bytes, trace: .omitted)
      case .literalData(let bytes):
        if tracing { traced += "[\(bytes.count) bytes]" }
        try connection.send(bytes, trace: .omitted)
      case .spooledLiteral(let body):
        if tracing { traced += "[\(body.count) bytes]" }
        try body.forEachChunk { try connection.send($0, trace: .omitted) }
      case .awaitContinuation:
        recordTrace()
        try connection.flush()
        try waitForContinuation(tag: tag, command: command.name)
      }
    }
    recordTrace()
    try connection.flush()
    return tag
  }

  /// Reads responses until the tagged reply for `tag`.
  @discardableResult
  public func waitFor(
    tag: String, command: String, onData: (UntaggedResponse) throws -> Void = { _ in },
    onBody: BodyConsumer? = nil, onContinuation: ((String) throws -> Void)? = nil
  ) throws -> ResponseStatus {
    bodyConsumer = onBody
    defer { bodyConsumer = nil }
    while true {
      switch try nextResponse() {
      case .tagged(let responseTag, let status) where responseTag == tag:
        guard status.kind == .ok else { throw IMAPError.commandFailed(peer: peer, command: command, status: status) }
        return status
      case .tagged(let otherTag, let status):
        // A pipelined command's reply arriving first: the caller waits for it in order, so
        // this is a protocol violation only if it is not ours at all.
        throw IMAPError.protocolViolation(
          peer: peer, error: .malformed(reason: "reply for \(otherTag) while waiting for \(tag)", excerpt: status.text))
      case .continuation(let text):
        guard let onContinuation else {
          throw IMAPError.protocolViolation(
            peer: peer, error: .malformed(reason: "unexpected continuation request", excerpt: text))
        }
        try onContinuation(text)
      case .untagged(let data):
        try handleUntagged(data, onData: onData)
      }
    }
  }

  private func waitForContinuation(tag: String, command: String) throws {
    while true {
      switch try nextResponse() {
      case .continuation: return
      case .tagged(let responseTag, let status) where responseTag == tag:
        // The server refused before the literal (e.g. APPEND too large, TRYCREATE).
        throw IMAPError.commandFailed(peer: peer, command: command, status: status)
      case .tagged(_, let status):
        throw IMAPError.protocolViolation(
          peer: peer, error: .malformed(reason: "unexpected tagged reply before continuation", excerpt: status.text))
      case .untagged(let data):
        try handleUntagged(data, onData: { _ in })
      }
    }
  }

  private func handleUntagged(_ data: UntaggedResponse, onData: (UntaggedResponse) throws -> Void) throws {
    if case .status(let status) = data {
      if status.kind == .bye { throw IMAPError.serverClosed(peer: peer, text: status.text) }
      if status.code == .alert { keepAlert(status.text) }
    }
    try onData(data)
    unsolicited?(data)
  }

  private func keepAlert(_ text: String) {
    guard alerts.count < Self.maxKeptAlerts else {
      alertsNotKept += 1
      return
    }
    alerts.append(text.count > Self.maxAlertLength ? String(text.prefix(Self.maxAlertLength)) + "…" : text)
  }

  /// The next complete response; streamed body bytes go to the current body consumer.
  func nextResponse() throws -> Response {
    connection.beginResponse()
    while true {
      let step: ResponseParser.Step
      do {
        step = try connection.withBufferedBytes { buffer -> ResponseParser.Step in
          let step = try parser.parse(buffer)
          try deliver(step, from: buffer)
          return step
        }
      } catch let error as IMAPParseError {
        connection.close()
        throw IMAPError.protocolViolation(peer: peer, error: error)
      }
      connection.consume(step.consumed)
      switch step.event {
      case .response(let response)?: return response
      case .bodyBegin, .bodyBytes, .bodyEnd: continue
      case nil: try connection.fill(limit: parser.limits.maxLineLength + 2)
      }
    }
  }

  private func deliver(_ step: ResponseParser.Step, from buffer: UnsafeRawBufferPointer) throws {
    switch step.event {
    case .bodyBegin(let start)?:
      traceReceived(UnsafeRawBufferPointer(rebasing: buffer[0..<step.consumed]))
      streamedBodyBytes = 0
      try bodyConsumer?.begin(start)
    case .bodyBytes(let range)?:
      if range.lowerBound > 0 { traceReceived(UnsafeRawBufferPointer(rebasing: buffer[0..<range.lowerBound])) }
      streamedBodyBytes += range.count
      try bodyConsumer?.bytes(UnsafeRawBufferPointer(rebasing: buffer[range]))
    case .bodyEnd?:
      connection.trace?.record(.received, "[\(streamedBodyBytes) bytes]", connection: connection.traceLabel)
      try bodyConsumer?.end()
    case .response?:
      traceReceived(UnsafeRawBufferPointer(rebasing: buffer[0..<step.consumed]))
    case nil:
      if step.consumed > 0 { traceReceived(UnsafeRawBufferPointer(rebasing: buffer[0..<step.consumed])) }
    }
  }

  private func traceReceived(_ bytes: UnsafeRawBufferPointer) {
    guard let trace = connection.trace, !bytes.isEmpty else { return }
    var text = ProtocolTrace.render(bytes)
    if text.hasSuffix("\\r\\n") { text.removeLast(4) }
    trace.record(.received, text, connection: connection.traceLabel)
  }
}

/// Receives streamed body sections of a FETCH.
public struct BodyConsumer {
  public var begin: (BodyStreamStart) throws -> Void
  public var bytes: (UnsafeRawBufferPointer) throws -> Void
  public var end: () throws -> Void

  public init(
    begin: @escaping (BodyStreamStart) throws -> Void, bytes: @escaping (UnsafeRawBufferPointer) throws -> Void,
    end: @escaping () throws -> Void
  ) {
    self.begin = begin
    self.bytes = bytes
    self.end = end
  }
}

extension Command {
  /// The command's name for messages: `LOGIN`, `UID FETCH`, ….
  public var name: String {
    switch self {
    case .capability: return "CAPABILITY"
    case .noop: return "NOOP"
    case .logout: return "LOGOUT"
    case .startTLS: return "STARTTLS"
    case .compressDeflate: return "COMPRESS"
    case .namespace: return "NAMESPACE"
    case .unselect: return "UNSELECT"
    case .close: return "CLOSE"
    case .expunge: return "EXPUNGE"
    case .login: return "LOGIN"
    case .authenticate(let mechanism, _): return "AUTHENTICATE \(mechanism)"
    case .id: return "ID"
    case .enable: return "ENABLE"
    case .list: return "LIST"
    case .lsub: return "LSUB"
    case .status(let mailbox, _): return "STATUS \(mailbox)"
    case .select(let mailbox, let readOnly, _), .selectQResync(let mailbox, let readOnly, _, _, _):
      return "\(readOnly ? "EXAMINE" : "SELECT") \(mailbox)"
    case .create(let mailbox, _): return "CREATE \(mailbox)"
    case .setMetadata(let mailbox, _, _): return "SETMETADATA \(mailbox)"
    case .delete(let mailbox): return "DELETE \(mailbox)"
    case .subscribe(let mailbox): return "SUBSCRIBE \(mailbox)"
    case .uidSearch: return "UID SEARCH"
    case .uidFetch: return "UID FETCH"
    case .uidStore: return "UID STORE"
    case .uidExpunge: return "UID EXPUNGE"
    case .append(let mailbox, let messages):
      return messages.count > 1 ? "MULTIAPPEND to \(mailbox)" : "APPEND to \(mailbox)"
    }
  }
}
