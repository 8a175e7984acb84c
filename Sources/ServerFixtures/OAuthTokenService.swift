import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A small OAuth2 authorization server for the tests, over plain HTTP on 127.0.0.1.
///
/// - `GET /token?user=NAME` issues a new opaque access token for NAME: what a test's token
///   command fetches (`tokenCommand(for:)`, with curl), as a real one asks Google or
///   Microsoft.
/// - `POST /introspect` with `token=…` is token introspection (RFC 7662) as Dovecot's
///   `oauth2` passdb asks it (`introspection_mode = post`): `{"active":true,"username":NAME}`
///   for a token it issued that has not expired, `"active":false` otherwise. The user name
///   is given for inactive tokens too, so Dovecot reports a refused token rather than an
///   internal error.
///
/// Each user's tokens live `Policy.lifetime` seconds; a policy can also have tokens born
/// refused, to play a token that renewing does or does not fix. Every connection is served
/// on its own thread and closed after one answer.
public final class OAuthTokenService: @unchecked Sendable {
  public struct Policy: Sendable {
    /// Seconds a token stays active after it is issued.
    public var lifetime: Double
    /// This many of the next tokens are refused from the start (then tokens are good).
    public var refusedTokens: Int
    /// Every token is refused.
    public var refuseAll: Bool

    public init(lifetime: Double = 3600, refusedTokens: Int = 0, refuseAll: Bool = false) {
      self.lifetime = lifetime
      self.refusedTokens = refusedTokens
      self.refuseAll = refuseAll
    }
  }

  private struct Issued {
    let user: String
    let expires: Date
    let refused: Bool
  }

  public let port: Int
  public let host = "127.0.0.1"
  private let listener: Int32
  private let lock = NSLock()
  private var policies: [String: Policy] = [:]
  private var tokens: [String: Issued] = [:]
  private var issuedCounts: [String: Int] = [:]
  private var introspections = 0
  private var stopped = false

  /// Where Dovecot's `introspection_url` points.
  public var introspectionURL: String { "http://\(host):\(port)/introspect" }

  /// A shell command printing a new token for `user`: what `--oauth-token-command` runs.
  public func tokenCommand(for user: String) -> String {
    "curl --silent --show-error --fail 'http://\(host):\(port)/token?user=\(user)'"
  }

  public init() throws {
    let (fd, freePort) = try LoopbackListener.open(backlog: 64, purpose: "token service")
    listener = fd
    port = freePort
    let thread = Thread { [self] in acceptLoop() }
    thread.name = "OAuthTokenService"
    thread.start()
  }

  deinit { stop() }

  public func stop() {
    lock.withLock {
      guard !stopped else { return }
      stopped = true
      // The accept loop closes it: closing here could close a number another thread reuses.
      shutdown(listener, Int32(SHUT_RDWR))
    }
  }

  // MARK: What the tests set and read

  public func setPolicy(_ policy: Policy, for user: String) {
    lock.withLock { policies[user] = policy }
  }

  /// How many tokens were issued to `user`: how often the token command ran.
  public func issuedCount(for user: String) -> Int {
    lock.withLock { issuedCounts[user, default: 0] }
  }

  /// Every token issued to `user` so far, for tests that look for leaks.
  public func issuedTokens(for user: String) -> [String] {
    lock.withLock { tokens.filter { $0.value.user == user }.map(\.key) }
  }

  /// How many introspection requests Dovecot made.
  public var introspectionCount: Int { lock.withLock { introspections } }

  /// Whether every token issued to `user` so far has expired (true when none was issued).
  public func allTokensExpired(for user: String) -> Bool {
    let now = Date()
    return lock.withLock { tokens.values.allSatisfy { $0.user != user || $0.expires <= now } }
  }

  /// Waits until every token issued to `user` has expired (at most `limit` seconds).
  public func waitUntilAllTokensExpired(for user: String, limit: Double = 30) throws {
    let deadline = Date().addingTimeInterval(limit)
    while !allTokensExpired(for: user) {
      guard Date() < deadline else { throw FixtureError("tokens of \(user) still active after \(limit) s") }
      usleep(50_000)
    }
  }

  // MARK: Serving

  private func acceptLoop() {
    while true {
      let client = accept(listener, nil, nil)
      if client < 0 {
        if errno == EINTR { continue }
        close(listener)  // shut down by stop()
        return
      }
      let thread = Thread { [self] in
        serve(client)
        close(client)
      }
      thread.start()
    }
  }

  private func serve(_ fd: Int32) {
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    guard let request = HTTPRequest.read(from: fd) else { return }
    let (status, body) = answer(request)
    let head =
      "HTTP/1.1 \(status)\r\nContent-Type: \(body.hasPrefix("{") ? "application/json" : "text/plain")\r\n"
      + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
    let bytes = Array((head + body).utf8)
    var sent = 0
    while sent < bytes.count {
      let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
      if count <= 0 { return }
      sent += count
    }
  }

  private func answer(_ request: HTTPRequest) -> (status: String, body: String) {
    switch (request.method, request.path) {
    case ("GET", "/token"):
      guard let user = request.query["user"], !user.isEmpty else { return ("400 Bad Request", "no user\n") }
      return ("200 OK", issue(for: user) + "\n")
    case ("POST", "/introspect"), ("GET", "/introspect"):
      let token = request.form["token"] ?? request.query["token"] ?? ""
      return ("200 OK", introspect(token))
    default:
      return ("404 Not Found", "not found\n")
    }
  }

  private func issue(for user: String) -> String {
    let token = "mft-" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    lock.withLock {
      var policy = policies[user] ?? Policy()
      let refused = policy.refuseAll || policy.refusedTokens > 0
      if policy.refusedTokens > 0 {
        policy.refusedTokens -= 1
        policies[user] = policy
      }
      tokens[token] = Issued(user: user, expires: Date().addingTimeInterval(policy.lifetime), refused: refused)
      issuedCounts[user, default: 0] += 1
    }
    return token
  }

  private func introspect(_ token: String) -> String {
    lock.withLock {
      introspections += 1
      guard let issued = tokens[token] else { return #"{"active":false,"username":""}"# }
      let active = !issued.refused && issued.expires > Date()
      return #"{"active":\#(active),"username":"\#(issued.user)","token_type":"Bearer"}"#
    }
  }
}

/// One HTTP/1.x request: enough of the protocol for curl and Dovecot's HTTP client.
private struct HTTPRequest {
  var method = ""
  var path = ""
  var query: [String: String] = [:]
  var form: [String: String] = [:]

  static func read(from fd: Int32) -> HTTPRequest? {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    let separator = Array("\r\n\r\n".utf8)
    var headEnd: Int?
    while headEnd == nil {
      let count = recv(fd, &buffer, buffer.count, 0)
      guard count > 0, bytes.count < 65536 else { return nil }
      bytes += buffer[0..<count]
      headEnd = bytes.firstRange(of: separator)?.upperBound
    }
    let head = String(decoding: bytes[..<headEnd!], as: UTF8.self)
    let lines = head.components(separatedBy: "\r\n")
    let words = lines[0].split(separator: " ")
    guard words.count >= 2 else { return nil }
    var request = HTTPRequest()
    request.method = String(words[0])
    let target = words[1].split(separator: "?", maxSplits: 1)
    request.path = String(target[0])
    if target.count == 2 { request.query = decodeForm(String(target[1])) }
    let length =
      lines.dropFirst().compactMap { line -> Int? in
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
        return Int(parts[1].trimmingCharacters(in: .whitespaces))
      }.first ?? 0
    while bytes.count - headEnd! < length {
      let count = recv(fd, &buffer, buffer.count, 0)
      guard count > 0 else { return nil }
      bytes += buffer[0..<count]
    }
    request.form = decodeForm(String(decoding: bytes[headEnd!..<(headEnd! + length)], as: UTF8.self))
    return request
  }

  /// `a=1&b=x%20y` (application/x-www-form-urlencoded).
  static func decodeForm(_ text: String) -> [String: String] {
    var fields: [String: String] = [:]
    for pair in text.split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1)
      let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
      let value = parts.count == 2 ? String(parts[1]).replacingOccurrences(of: "+", with: " ") : ""
      fields[name] = value.removingPercentEncoding ?? value
    }
    return fields
  }
}
