/// When a `ThrottlingProxy` answers a command itself, the way a throttling server does,
/// instead of passing it on: every `every`-th command whose verb is in `verbs` (counted over
/// all connections) after the first `after` such commands, at most `times` times (nil: for
/// ever).
public struct ThrottleSchedule: Sendable {
  /// Upper-cased verbs: IMAP `APPEND`, `FETCH` (also as `UID FETCH`), `SELECT`; POP3
  /// `PASS`, `USER`; SMTP `MAIL`.
  public var verbs: Set<String>
  public var every: Int
  public var times: Int?
  public var after: Int
  public var answer: ThrottleAnswer

  public init(verbs: Set<String>, every: Int = 1, times: Int? = nil, after: Int = 0, answer: ThrottleAnswer) {
    self.after = after
    self.verbs = verbs
    self.every = max(1, every)
    self.times = times
    self.answer = answer
  }
}

/// What the proxy says instead of passing a command on.
public struct ThrottleAnswer: Sendable {
  /// The line without CRLF; for IMAP, `tagged` lines are prefixed with the command's tag.
  public var line: String
  public var tagged: Bool
  /// Close the connection after answering (a BYE, a 421).
  public var closes: Bool

  public init(line: String, tagged: Bool = false, closes: Bool = false) {
    self.line = line
    self.tagged = tagged
    self.closes = closes
  }

  /// Microsoft 365's answer.
  public static let imapThrottled = ThrottleAnswer(
    line: "NO [THROTTLED] Request is throttled. Suggested Backoff Time: 20 milliseconds", tagged: true)
  public static let imapUnavailable = ThrottleAnswer(line: "NO [UNAVAILABLE] Server Unavailable. 15", tagged: true)
  public static let imapBye = ThrottleAnswer(line: "* BYE Connection closed. 14", closes: true)
  public static let pop3InUse = ThrottleAnswer(line: "-ERR [IN-USE] Mailbox is locked by another session, try later")
  public static let smtpTooManyConnections = ThrottleAnswer(line: "421 4.7.0 Too many connections", closes: true)
  public static let smtpServerBusy = ThrottleAnswer(line: "451 4.7.500 Server busy. Please try again later.")
}

/// Splits a protocol stream into units the proxy treats whole: a client's command (its
/// first line decides; literals and continuation lines follow) or a server's response line
/// with its literals. Knows IMAP literals (`{n}`, `{n+}`) and SMTP `BDAT n`.
struct StreamFramer {
  enum Dialect { case imap, pop3, smtp }

  enum Piece: Equatable {
    /// A complete line with its CRLF; `opensLiteral` is the byte count that follows it.
    case line([UInt8], opensLiteral: Int?, synchronising: Bool)
    case literal([UInt8])
  }

  let dialect: Dialect
  private var buffer: [UInt8] = []
  private var literalLeft = 0

  init(_ dialect: Dialect) { self.dialect = dialect }

  /// The complete pieces `bytes` finishes; the rest waits for more.
  mutating func feed(_ bytes: [UInt8]) -> [Piece] {
    buffer += bytes
    var pieces: [Piece] = []
    var start = 0
    while start < buffer.count {
      if literalLeft > 0 {
        let take = min(literalLeft, buffer.count - start)
        pieces.append(.literal(Array(buffer[start..<(start + take)])))
        literalLeft -= take
        start += take
        continue
      }
      guard let newline = buffer[start...].firstIndex(of: 10) else { break }
      let line = Array(buffer[start...newline])
      start = newline + 1
      let (count, synchronising) = literal(after: line)
      literalLeft = count ?? 0
      pieces.append(.line(line, opensLiteral: count, synchronising: synchronising))
    }
    buffer.removeFirst(start)
    return pieces
  }

  /// The literal a line announces: IMAP `{n}` / `{n+}` at its end, SMTP `BDAT n [LAST]`.
  func literal(after line: [UInt8]) -> (count: Int?, synchronising: Bool) {
    let text = Self.text(of: line)
    switch dialect {
    case .imap:
      guard text.hasSuffix("}"), let open = text.lastIndex(of: "{") else { return (nil, false) }
      var digits = text[text.index(after: open)..<text.index(before: text.endIndex)]
      let plus = digits.hasSuffix("+")
      if plus { digits = digits.dropLast() }
      return (Int(digits), !plus)
    case .smtp:
      let words = text.split(separator: " ")
      guard words.count >= 2, words[0].uppercased() == "BDAT" else { return (nil, false) }
      return (Int(words[1]), false)
    case .pop3: return (nil, false)
    }
  }

  /// The line without its line ending.
  static func text(of line: [UInt8]) -> String {
    var end = line.count
    while end > 0 && (line[end - 1] == 10 || line[end - 1] == 13) { end -= 1 }
    return String(decoding: line[..<end], as: UTF8.self)
  }

  /// The command's verb (`UID FETCH` → `FETCH`), upper-cased, and the IMAP tag.
  func verb(of line: [UInt8]) -> (tag: String?, verb: String) {
    let words = Self.text(of: line).split(separator: " ")
    guard dialect == .imap else { return (nil, words.first.map { $0.uppercased() } ?? "") }
    guard words.count >= 2 else { return (words.first.map(String.init), "") }
    let verb = words[1].uppercased()
    if verb == "UID", words.count >= 3 { return (String(words[0]), words[2].uppercased()) }
    return (String(words[0]), verb)
  }
}
