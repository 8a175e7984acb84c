/// One reply line of a POP3 server (RFC 1939 §3, RFC 2449 §8 response codes).
public enum POP3Reply: Equatable, Sendable {
  /// `+OK …` or `-ERR …`.
  case status(POP3Status)
  /// `+ base64` during AUTH (RFC 5034).
  case continuation(String)

  /// Parses a reply line given without its line ending.
  public static func parse(_ line: [UInt8]) throws(POP3ParseError) -> POP3Reply {
    let text = String(decoding: line, as: UTF8.self)
    if text == "+" || text.hasPrefix("+ ") {
      return .continuation(String(text.dropFirst(text.count > 1 ? 2 : 1)))
    }
    let ok: Bool
    let rest: Substring
    if text.uppercased().hasPrefix("+OK") {
      ok = true
      rest = text.dropFirst(3)
    } else if text.uppercased().hasPrefix("-ERR") {
      ok = false
      rest = text.dropFirst(4)
    } else {
      throw POP3ParseError.notAStatusLine(excerpt: POP3ParseError.excerpt(text))
    }
    // "+OK" must be followed by a space or nothing ("+OKAY" is not a status).
    if let first = rest.first, first != " " {
      throw POP3ParseError.notAStatusLine(excerpt: POP3ParseError.excerpt(text))
    }
    var message = rest.drop { $0 == " " }
    var code: String?
    if message.first == "[", let close = message.firstIndex(of: "]") {
      code = String(message[message.index(after: message.startIndex)..<close]).uppercased()
      message = message[message.index(after: close)...].drop { $0 == " " }
    }
    return .status(POP3Status(ok: ok, code: code, text: String(message)))
  }
}

/// A `+OK` or `-ERR` line.
public struct POP3Status: Equatable, Sendable {
  public var ok: Bool
  /// RFC 2449 extended response code, upper-cased: `IN-USE`, `LOGIN-DELAY`, `SYS/TEMP`,
  /// `SYS/PERM`, `AUTH`.
  public var code: String?
  public var text: String

  public init(ok: Bool, code: String? = nil, text: String) {
    self.ok = ok
    self.code = code
    self.text = text
  }

  /// Whether a failed login says the problem is the mailbox or the server, not the
  /// credentials (so it may be retried later).
  public var isTemporary: Bool {
    guard let code else { return false }
    return code == "IN-USE" || code == "LOGIN-DELAY" || code.hasPrefix("SYS/TEMP")
  }

  /// The APOP timestamp of a greeting (`<1896.697170952@dbc.mtview.ca.us>`), if any.
  public var apopTimestamp: String? {
    guard let open = text.firstIndex(of: "<"), let close = text[open...].firstIndex(of: ">") else { return nil }
    let stamp = text[open...close]
    return stamp.contains("@") ? String(stamp) : nil
  }
}
