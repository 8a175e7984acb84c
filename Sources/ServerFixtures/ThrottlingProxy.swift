import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A loopback proxy in front of a real server (Dovecot's IMAP or POP3, Postfix's SMTP)
/// that plays a throttling provider, for tests: commands the schedules pick are answered
/// by the proxy (`NO [THROTTLED]`, `* BYE`, `-ERR [IN-USE]`, `421`, `451`) and not passed
/// on; everything else flows through unchanged. Server responses are passed on whole, so
/// an answer of the proxy never lands inside one. Threads and blocking I/O, like `TCPProxy`.
public final class ThrottlingProxy: @unchecked Sendable {
  public enum Dialect: Sendable { case imap, pop3, smtp }

  private let relay: ProxyListener
  public var port: Int { relay.port }
  private let dialect: StreamFramer.Dialect
  private let lock = NSLock()
  private var schedules: [ThrottleSchedule]
  private var seen: [Int: Int] = [:]
  private var answered: [Int: Int] = [:]
  private let hidesSTARTTLS: Bool

  /// `hidesSTARTTLS` drops `250-STARTTLS` from SMTP EHLO replies, so a client stays in
  /// plaintext (with `--allow-plaintext`) where the proxy can read its commands.
  public init(
    upstreamPort: Int, dialect: Dialect, schedules: [ThrottleSchedule], hidesSTARTTLS: Bool = false
  ) throws {
    self.hidesSTARTTLS = hidesSTARTTLS
    self.schedules = schedules
    switch dialect {
    case .imap: self.dialect = .imap
    case .pop3: self.dialect = .pop3
    case .smtp: self.dialect = .smtp
    }
    relay = try ProxyListener(upstreamPort: upstreamPort, purpose: "throttling proxy")
    relay.start { [self] client, upstream in
      let session = ProxySession(
        client: client, upstream: upstream, dialect: self.dialect, hidesSTARTTLS: self.hidesSTARTTLS)
      return [{ session.serverToClient() }, { session.clientToServer(answer: self.answer(for:)) }]
    }
  }

  deinit { stop() }

  /// How many commands the proxy has answered itself.
  public var throttled: Int { lock.withLock { answered.values.reduce(0, +) } }

  /// Replaces the schedules (an empty list passes everything on).
  public func setSchedules(_ schedules: [ThrottleSchedule]) {
    lock.withLock {
      self.schedules = schedules
      seen = [:]
      answered = [:]
    }
  }

  public func stop() { relay.stop() }

  /// The answer for a command with this verb, if a schedule picks it now.
  private func answer(for verb: String) -> ThrottleAnswer? {
    lock.withLock {
      for (index, schedule) in schedules.enumerated() where schedule.verbs.contains(verb) {
        seen[index, default: 0] += 1
        let counted = seen[index]! - schedule.after
        guard counted > 0, counted % schedule.every == 0, answered[index, default: 0] < (schedule.times ?? .max) else {
          continue
        }
        answered[index, default: 0] += 1
        return schedule.answer
      }
      return nil
    }
  }
}

/// One proxied connection: two pumps, and one lock so the client gets whole units only.
private final class ProxySession: @unchecked Sendable {
  let client: Int32
  let upstream: Int32
  let dialect: StreamFramer.Dialect
  let hidesSTARTTLS: Bool
  private let clientLock = NSLock()

  init(client: Int32, upstream: Int32, dialect: StreamFramer.Dialect, hidesSTARTTLS: Bool) {
    self.hidesSTARTTLS = hidesSTARTTLS
    self.client = client
    self.upstream = upstream
    self.dialect = dialect
  }

  private func toClient(_ bytes: [UInt8]) -> Bool { clientLock.withLock { TCPProxy.writeAll(bytes, to: client) } }

  /// Ends both directions.
  private func hangUp() {
    shutdown(client, Int32(SHUT_RDWR))
    shutdown(upstream, Int32(SHUT_RDWR))
  }

  /// Passes the server's output on in whole lines (with their literals).
  func serverToClient() {
    var framer = StreamFramer(dialect)
    var unit: [UInt8] = []
    var inLiteral = false
    read(from: upstream) { bytes in
      for piece in framer.feed(bytes) {
        switch piece {
        case .line(let line, let literal, _):
          if hidesSTARTTLS && StreamFramer.text(of: line).uppercased() == "250-STARTTLS" { continue }
          unit += line
          inLiteral = (literal ?? 0) > 0
        case .literal(let bytes):
          unit += bytes
          inLiteral = false
          continue
        }
        guard !inLiteral else { continue }
        guard toClient(unit) else { return false }
        unit = []
      }
      // A literal ends mid-unit: the unit goes out with the line after it.
      return true
    }
    hangUp()
  }

  /// Passes the client's commands on, or answers those a schedule picks.
  func clientToServer(answer: (String) -> ThrottleAnswer?) {
    var framer = StreamFramer(dialect)
    var inCommand = false
    var dropping = false
    var pending: (tag: String?, answer: ThrottleAnswer)?
    var inData = false
    read(from: client) { bytes in
      for piece in framer.feed(bytes) {
        switch piece {
        case .literal(let bytes):
          if !dropping && !TCPProxy.writeAll(bytes, to: upstream) { return false }
        case .line(let line, let literal, let synchronising):
          if inData {
            // SMTP DATA: message lines until the lone dot.
            if StreamFramer.text(of: line) == "." { inData = false }
            if !TCPProxy.writeAll(line, to: upstream) { return false }
            continue
          }
          if !inCommand {
            let (tag, verb) = framer.verb(of: line)
            if let chosen = answer(verb) {
              if literal != nil && !synchronising {
                // LITERAL+: the client sends the rest at once; swallow it, then answer.
                dropping = true
                pending = (tag, chosen)
              } else {
                // No literal, or one the client sends only after "+": answer now.
                guard reply(chosen, tag: tag) else { return false }
                if chosen.closes { return false }
                continue
              }
            } else if dialect == .smtp && verb == "DATA" {
              inData = true
            }
          }
          if !dropping && !TCPProxy.writeAll(line, to: upstream) { return false }
          // An IMAP command goes on after its literal; an SMTP BDAT chunk ends its command.
          inCommand = dialect == .imap && literal != nil
          if !inCommand, dropping, let (tag, chosen) = pending {
            dropping = false
            pending = nil
            guard reply(chosen, tag: tag) else { return false }
            if chosen.closes { return false }
          }
        }
      }
      return true
    }
    hangUp()
  }

  private func reply(_ answer: ThrottleAnswer, tag: String?) -> Bool {
    let line = (answer.tagged ? "\(tag ?? "*") " : "") + answer.line + "\r\n"
    return toClient(Array(line.utf8))
  }

  /// Reads `fd` until it ends or `handle` returns false.
  private func read(from fd: Int32, _ handle: ([UInt8]) -> Bool) {
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if count < 0 && errno == EINTR { continue }
      guard count > 0, handle(Array(buffer[0..<count])) else { return }
    }
  }
}
