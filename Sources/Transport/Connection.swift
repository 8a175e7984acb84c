/// How a connection is secured when it opens.
public enum ConnectionSecurity: Sendable, Equatable {
  /// Plain TCP; a protocol may upgrade it with `startTLS` (STARTTLS, STLS).
  case plain
  /// TLS from the first byte (imaps, pop3s, smtps).
  case implicitTLS(TLSOptions)
}

/// How a line written to the connection appears in the protocol trace.
public enum TraceText: Sendable {
  /// The bytes themselves.
  case verbatim
  /// Something else in their place: a command with its password replaced by `<redacted>`,
  /// or `[N bytes]` for a literal.
  case replaced(String)
  /// Nothing.
  case omitted
}

/// A buffered, deadline-bound client connection: TCP, then optionally TLS and DEFLATE.
///
/// Ownership rule: one thread drives a connection at a time (its owner); nothing here is
/// locked. Reads fill an internal buffer from which lines, exact byte counts or whatever a
/// parser consumes are taken; writes are buffered until `flush`.
public final class Connection: @unchecked Sendable {
  public let host: String
  public let port: Int
  /// `host:port`, used in every error.
  public let peer: String
  /// Per-operation deadline for reads and writes.
  public var timeout: Duration
  public var trace: ProtocolTrace?
  /// Names this connection in a shared trace.
  public var traceLabel = ""
  public private(set) var tlsInfo: TLSSessionInfo?
  public private(set) var isCompressed = false
  /// Bytes read from and written to the stream (after decompression, before compression).
  public private(set) var bytesReceived = 0
  public private(set) var bytesSent = 0

  private let socket: SocketStream
  private var stream: ByteStream
  private var buffer: [UInt8]
  private var readStart = 0
  private var readEnd = 0
  private var output: [UInt8] = []
  private let chunkSize: Int
  /// The response being read (`beginResponse`): when it began and the bytes read since.
  private var response: (start: ContinuousClock.Instant, received: Int)?

  /// A response's overall deadline is this many times `timeout`...
  public static let responseTimeoutFactor = 5
  /// ...plus one second for every this many bytes it brings (the slowest average rate a
  /// long response, a message body above all, may arrive at).
  public static let minimumBytesPerSecond = 1024

  /// Input chunk size: the most a streamed read holds at once.
  public static let defaultChunkSize = 64 * 1024

  private init(host: String, port: Int, socket: SocketStream, timeout: Duration, chunkSize: Int) {
    self.host = host
    self.port = port
    self.peer = socket.peer
    self.socket = socket
    self.stream = socket
    self.timeout = timeout
    self.chunkSize = chunkSize
    buffer = [UInt8](repeating: 0, count: chunkSize)
  }

  /// Connects to `host:port` (trying each resolved address), then performs the TLS handshake
  /// when `security` asks for it.
  public static func open(
    host: String, port: Int, security: ConnectionSecurity, connectTimeout: Duration = .seconds(30),
    timeout: Duration = .seconds(120), trace: ProtocolTrace? = nil, traceLabel: String = "",
    chunkSize: Int = defaultChunkSize
  ) throws -> Connection {
    let socket = try TCPConnector.connect(host: host, port: port, timeout: connectTimeout)
    let connection = Connection(host: host, port: port, socket: socket, timeout: timeout, chunkSize: chunkSize)
    connection.trace = trace
    connection.traceLabel = traceLabel
    connection.note("connected to \(connection.peer)")
    if case .implicitTLS(let options) = security {
      try connection.startTLS(options)
    }
    return connection
  }

  // MARK: Upgrades

  /// Starts TLS on the open connection (implicit TLS, or after a STARTTLS/STLS reply).
  /// Refuses when the server already sent bytes that would be read as plaintext.
  public func startTLS(_ options: TLSOptions) throws {
    guard readEnd == readStart else {
      close()
      throw TransportError.plaintextAfterStartTLS(peer: peer)
    }
    let tls = try TLSStream(socket: socket, host: host, options: options, deadline: .after(timeout))
    stream = tls
    tlsInfo = tls.info
    note(
      "TLS \(tls.info.protocolVersion) \(tls.info.cipher), certificate \(tls.info.peerSubject)"
        + (tls.info.verified ? "" : " (NOT verified: \(tls.info.verificationNote ?? "?"))"))
  }

  /// Compresses both directions from now on (after an `OK` to COMPRESS DEFLATE). Bytes the
  /// server sent after that reply and already buffered are decompressed, not lost.
  public func startCompression() throws {
    try flush()
    let leftover = Array(buffer[readStart..<readEnd])
    readStart = 0
    readEnd = 0
    stream = try DeflateStream(inner: stream, peer: peer, initialInput: leftover)
    isCompressed = true
    note("DEFLATE compression on")
  }

  // MARK: Reading

  /// Starts the overall deadline of one response or greeting, as a client begins to read
  /// it. `timeout` bounds each read only, so a server sending a byte a second would never
  /// hit it; the whole response must arrive within `responseTimeoutFactor × timeout`, plus
  /// one second per `minimumBytesPerSecond` bytes it brings, so a large message body may
  /// take as long as it needs at 1 KiB/s or better. Past that, `fill` throws
  /// `responseTooSlow`.
  public func beginResponse() {
    response = (.now, 0)
  }

  /// The unconsumed input, for a parser to look at. Call `consume` for what it used and
  /// `fill` when it needs more.
  public func withBufferedBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
    try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[readStart..<readEnd])) }
  }

  public var bufferedCount: Int { readEnd - readStart }

  /// Marks `count` buffered bytes as used.
  public func consume(_ count: Int) {
    precondition(count <= readEnd - readStart, "consumed more than was buffered")
    readStart += count
    if readStart == readEnd {
      readStart = 0
      readEnd = 0
    }
  }

  /// Reads more input into the buffer, growing it up to `limit` bytes of unconsumed input.
  /// Throws `connectionClosed` at the end of the stream, `lineTooLong` past the limit.
  public func fill(limit: Int = 1 << 20) throws {
    if readEnd == buffer.count {
      if readStart > 0 {
        buffer.withUnsafeMutableBytes { raw in
          raw.baseAddress!.copyMemory(from: raw.baseAddress! + readStart, byteCount: readEnd - readStart)
        }
        readEnd -= readStart
        readStart = 0
      } else {
        guard buffer.count < limit else { throw TransportError.lineTooLong(peer: peer, limit: limit) }
        buffer.append(contentsOf: repeatElement(0, count: min(buffer.count, limit - buffer.count)))
      }
    }
    let perRead = Deadline.after(timeout)
    var overall: Deadline?
    if let response {
      let allowance =
        timeout * Self.responseTimeoutFactor + .seconds(Double(response.received) / Double(Self.minimumBytesPerSecond))
      if response.start + allowance < perRead.instant {
        overall = Deadline(instant: response.start + allowance, timeout: allowance)
      }
    }
    let count: Int
    do {
      count = try buffer.withUnsafeMutableBytes { raw in
        try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[readEnd...]), deadline: overall ?? perRead)
      }
    } catch TransportError.timedOut where overall != nil {
      let received = response?.received ?? 0
      note("response not complete after \(overall!.timeoutSeconds) s")
      throw TransportError.responseTooSlow(peer: peer, seconds: overall!.timeoutSeconds, bytes: received)
    }
    response?.received += count
    if count == 0 {
      note("connection closed by \(peer)")
      throw TransportError.connectionClosed(peer: peer)
    }
    readEnd += count
    bytesReceived += count
  }

  /// Reads one line and returns it without its line ending (CRLF, or a bare LF).
  public func readLine(maxLength: Int = 64 * 1024, traced: Bool = true) throws -> [UInt8] {
    var searchFrom = readStart
    while true {
      let found: Int? = buffer.withUnsafeBytes { raw in
        guard searchFrom < readEnd else { return nil }
        return raw[searchFrom..<readEnd].firstIndex(of: 0x0A)
      }
      if let newline = found {
        var end = newline
        if end > readStart && buffer[end - 1] == 0x0D { end -= 1 }
        let line = Array(buffer[readStart..<end])
        consume(newline + 1 - readStart)
        if traced { trace?.record(.received, ProtocolTrace.render(line), connection: traceLabel) }
        return line
      }
      let scanned = readEnd - readStart
      guard scanned <= maxLength else { throw TransportError.lineTooLong(peer: peer, limit: maxLength) }
      try fill(limit: maxLength + 2)
      searchFrom = readStart + scanned
    }
  }

  /// Delivers exactly `count` bytes to `chunk` in pieces of at most the chunk size, so a
  /// large literal is never held whole. Traced as `[N bytes]`.
  public func readBytes(count: Int, chunk: (UnsafeRawBufferPointer) throws -> Void) throws {
    var remaining = count
    while remaining > 0 {
      if readEnd == readStart { try fill() }
      let take = min(remaining, readEnd - readStart)
      try buffer.withUnsafeBytes { try chunk(UnsafeRawBufferPointer(rebasing: $0[readStart..<readStart + take])) }
      consume(take)
      remaining -= take
    }
    trace?.record(.received, "[\(count) bytes]", connection: traceLabel)
  }

  /// Reads exactly `count` bytes into memory.
  public func readBytes(count: Int) throws -> [UInt8] {
    var result = [UInt8]()
    result.reserveCapacity(count)
    try readBytes(count: count) { result.append(contentsOf: $0) }
    return result
  }

  // MARK: Writing

  /// Queues bytes for sending; `flush` sends them. Large queues are sent early.
  public func send(_ bytes: [UInt8], trace traceText: TraceText = .verbatim) throws {
    try bytes.withUnsafeBytes { try send($0, trace: traceText) }
  }

  public func send(_ bytes: UnsafeRawBufferPointer, trace traceText: TraceText = .verbatim) throws {
    switch traceText {
    case .verbatim: trace?.record(.sent, ProtocolTrace.render(bytes), connection: traceLabel)
    case .replaced(let text): trace?.record(.sent, text, connection: traceLabel)
    case .omitted: break
    }
    output.append(contentsOf: bytes)
    if output.count >= 4 * chunkSize { try flush() }
  }

  public func send(_ text: String, trace traceText: TraceText = .verbatim) throws {
    try send(Array(text.utf8), trace: traceText)
  }

  /// Sends everything queued.
  public func flush() throws {
    guard !output.isEmpty else { return }
    defer { output.removeAll(keepingCapacity: output.capacity <= 16 * chunkSize) }
    try output.withUnsafeBytes { try stream.write($0, deadline: .after(timeout)) }
    bytesSent += output.count
  }

  // MARK: Ending

  /// Closes without waiting for the server (after a protocol goodbye, or to abandon it).
  public func close() {
    stream.close()
    socket.close()
  }

  /// Adds a note (not protocol data) to the trace.
  public func note(_ text: String) {
    trace?.record(.note, text, connection: traceLabel)
  }
}
