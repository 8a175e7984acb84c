import MailCore

/// A command ready to send: text, literals, and the points where a synchronising literal
/// must wait for the server's `+`.
public struct EncodedCommand: Sendable {
  public enum Segment: Sendable, Equatable {
    /// Protocol text, traced as is.
    case text([UInt8])
    /// Text carrying a credential: sent as is, traced as `traceAs`.
    case secret([UInt8], traceAs: String)
    /// Literal data (traced as `[N bytes]`).
    case literalData([UInt8])
    /// A message literal's data read from its spool file in chunks as it is sent (traced as
    /// `[N bytes]`).
    case spooledLiteral(MessageBody)
    /// Stop until the server sends a continuation request.
    case awaitContinuation
  }

  public let tag: String
  public let segments: [Segment]

  /// Every byte sent, in order, for tests and round trips.
  public var wireBytes: [UInt8] {
    segments.flatMap { segment -> [UInt8] in
      switch segment {
      case .text(let bytes), .secret(let bytes, _), .literalData(let bytes): return bytes
      case .spooledLiteral(let body): return (try? body.wholeBytes()) ?? []
      case .awaitContinuation: return []
      }
    }
  }

  /// Number of continuation requests this command waits for.
  public var synchronisingLiterals: Int { segments.filter { $0 == .awaitContinuation }.count }
}

/// Turns `Command` values into bytes, choosing atom, quoted string or literal from the
/// bytes themselves and using LITERAL+ / LITERAL- when the server offers them.
public struct CommandEncoder: Sendable {
  public var literalPlus: Bool
  public var literalMinus: Bool
  /// UTF8=ACCEPT was enabled: 8-bit text may be sent in quoted strings.
  public var utf8Accepted: Bool

  public init(capabilities: Set<String>, utf8Accepted: Bool = false) {
    literalPlus = capabilities.contains("LITERAL+")
    literalMinus = capabilities.contains("LITERAL-")
    self.utf8Accepted = utf8Accepted
  }

  public func encode(_ command: Command, tag: String) -> EncodedCommand {
    var writer = Writer(encoder: self)
    writer.text("\(tag) ")
    switch command {
    case .capability: writer.text("CAPABILITY")
    case .noop: writer.text("NOOP")
    case .logout: writer.text("LOGOUT")
    case .startTLS: writer.text("STARTTLS")
    case .compressDeflate: writer.text("COMPRESS DEFLATE")
    case .namespace: writer.text("NAMESPACE")
    case .unselect: writer.text("UNSELECT")
    case .close: writer.text("CLOSE")
    case .expunge: writer.text("EXPUNGE")
    case .login(let user, let password):
      writer.text("LOGIN ")
      writer.astring(Array(user.utf8))
      writer.text(" ")
      writer.secretAString(Array(password.utf8))
    case .authenticate(let mechanism, let initialResponse):
      writer.text("AUTHENTICATE \(mechanism) ")
      // RFC 4959: "=" stands for an empty initial response.
      let encoded = initialResponse.isEmpty ? "=" : Base64.encode(initialResponse)
      writer.segments.append(.secret(Array(encoded.utf8), traceAs: "<redacted>"))
    case .id(let parameters):
      writer.text("ID ")
      if parameters.isEmpty {
        writer.text("NIL")
      } else {
        writer.text("(")
        for (index, (key, value)) in parameters.enumerated() {
          if index > 0 { writer.text(" ") }
          writer.string(Array(key.utf8))
          writer.text(" ")
          writer.string(Array(value.utf8))
        }
        writer.text(")")
      }
    case .enable(let capabilities): writer.text("ENABLE " + capabilities.joined(separator: " "))
    case .list(let reference, let pattern, let returnOptions):
      writer.text("LIST ")
      writer.mailbox(reference)
      writer.text(" ")
      writer.listPattern(pattern)
      if !returnOptions.isEmpty { writer.text(" RETURN (" + returnOptions.joined(separator: " ") + ")") }
    case .lsub(let reference, let pattern):
      writer.text("LSUB ")
      writer.mailbox(reference)
      writer.text(" ")
      writer.listPattern(pattern)
    case .status(let mailbox, let items):
      writer.text("STATUS ")
      writer.mailbox(mailbox)
      writer.text(" (" + items.joined(separator: " ") + ")")
    case .select(let mailbox, let readOnly, let condstore):
      writer.text(readOnly ? "EXAMINE " : "SELECT ")
      writer.mailbox(mailbox)
      if condstore { writer.text(" (CONDSTORE)") }
    case .selectQResync(let mailbox, let readOnly, let uidValidity, let modSeq, let knownUIDs):
      writer.text(readOnly ? "EXAMINE " : "SELECT ")
      writer.mailbox(mailbox)
      writer.text(" (QRESYNC (\(uidValidity) \(modSeq)\(knownUIDs.map { " \($0)" } ?? "")))")
    case .create(let mailbox, let specialUse):
      writer.text("CREATE ")
      writer.mailbox(mailbox)
      if let specialUse { writer.text(" (USE (\(specialUse)))") }
    case .setMetadata(let mailbox, let entry, let value):
      writer.text("SETMETADATA ")
      writer.mailbox(mailbox)
      writer.text(" (\(entry) ")
      writer.string(Array(value.utf8))
      writer.text(")")
    case .delete(let mailbox):
      writer.text("DELETE ")
      writer.mailbox(mailbox)
    case .subscribe(let mailbox):
      writer.text("SUBSCRIBE ")
      writer.mailbox(mailbox)
    case .uidSearch(let key, let returnOptions):
      writer.text("UID SEARCH ")
      if let returnOptions { writer.text("RETURN (" + returnOptions.joined(separator: " ") + ") ") }
      writer.searchKey(key)
    case .uidFetch(let set, let items, let changedSince, let vanished):
      writer.text("UID FETCH \(set) (" + items.joined(separator: " ") + ")")
      if let changedSince { writer.text(" (CHANGEDSINCE \(changedSince)\(vanished ? " VANISHED" : ""))") }
    case .uidStore(let set, let mode, let flags, let silent):
      writer.text("UID STORE \(set) \(mode.rawValue)\(silent ? ".SILENT" : "") (" + flags.joined(separator: " ") + ")")
    case .uidExpunge(let set): writer.text("UID EXPUNGE \(set)")
    case .append(let mailbox, let messages):
      writer.text("APPEND ")
      writer.mailbox(mailbox)
      for message in messages {
        writer.text(" ")
        if !message.flags.isEmpty { writer.text("(" + message.flags.joined(separator: " ") + ") ") }
        if let date = message.receivedDate { writer.text("\"\(date.internalDateText)\" ") }
        writer.messageLiteral(message.body)
      }
    }
    writer.text("\r\n")
    return EncodedCommand(tag: tag, segments: writer.segments)
  }

  /// Accumulates segments, merging adjacent text.
  struct Writer {
    let encoder: CommandEncoder
    var segments: [EncodedCommand.Segment] = []

    mutating func text(_ string: String) { bytes(Array(string.utf8)) }

    mutating func bytes(_ bytes: [UInt8]) {
      if case .text(let previous) = segments.last {
        segments[segments.count - 1] = .text(previous + bytes)
      } else {
        segments.append(.text(bytes))
      }
    }

    /// astring = 1*ASTRING-CHAR / string
    mutating func astring(_ value: [UInt8]) {
      if !value.isEmpty && value.allSatisfy(Self.isAStringChar) && !Self.isNil(value) {
        bytes(value)
      } else {
        string(value)
      }
    }

    mutating func secretAString(_ value: [UInt8]) {
      var inner = Writer(encoder: encoder)
      inner.astring(value)
      for segment in inner.segments {
        if case .text(let text) = segment {
          segments.append(.secret(text, traceAs: "<redacted>"))
        } else if case .literalData(let data) = segment {
          segments.append(.secret(data, traceAs: "<redacted>"))
        } else {
          segments.append(segment)
        }
      }
    }

    /// A mailbox name: INBOX as is, others as astring of their wire bytes.
    mutating func mailbox(_ name: MailboxName) { astring(name.raw) }

    /// list-mailbox: `*` and `%` are wildcards and allowed unquoted.
    mutating func listPattern(_ name: MailboxName) {
      let isListChar: (UInt8) -> Bool = { Self.isAStringChar($0) || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "%") }
      if !name.raw.isEmpty && name.raw.allSatisfy(isListChar) { bytes(name.raw) } else { string(name.raw) }
    }

    /// string = quoted / literal, whichever the bytes allow.
    mutating func string(_ value: [UInt8]) {
      let quotable =
        value.count <= 1024
        && value.allSatisfy { byte in
          byte != 0 && byte != 0x0D && byte != 0x0A && (byte < 0x80 || encoder.utf8Accepted)
        }
      if quotable {
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        for byte in value {
          if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { quoted.append(UInt8(ascii: "\\")) }
          quoted.append(byte)
        }
        quoted.append(UInt8(ascii: "\""))
        bytes(quoted)
      } else {
        literal(value, isMessage: false)
      }
    }

    /// `{n+}` when the server allows non-synchronising literals of this size, else `{n}`
    /// and a wait for `+`.
    mutating func literal(_ data: [UInt8], isMessage: Bool) {
      let nonSynchronising = encoder.literalPlus || (encoder.literalMinus && data.count <= 4096)
      text("{\(data.count)\(nonSynchronising ? "+" : "")}\r\n")
      if !nonSynchronising { segments.append(.awaitContinuation) }
      segments.append(.literalData(data))
    }

    /// A message's literal: its bytes when they are in memory, else read from its spool
    /// file as it is sent.
    mutating func messageLiteral(_ body: MessageBody) {
      switch body {
      case .inMemory(let bytes): literal(bytes, isMessage: true)
      case .spooled:
        let nonSynchronising = encoder.literalPlus
        text("{\(body.count)\(nonSynchronising ? "+" : "")}\r\n")
        if !nonSynchronising { segments.append(.awaitContinuation) }
        segments.append(.spooledLiteral(body))
      }
    }

    mutating func searchKey(_ key: SearchKey) {
      switch key {
      case .all: text("ALL")
      case .uid(let set): text("UID \(set)")
      case .since(let year, let month, let day): text("SINCE \(Self.searchDate(year, month, day))")
      case .before(let year, let month, let day): text("BEFORE \(Self.searchDate(year, month, day))")
      case .larger(let size): text("LARGER \(size)")
      case .smaller(let size): text("SMALLER \(size)")
      case .modSeq(let value): text("MODSEQ \(value)")
      case .header(let field, let value):
        text("HEADER ")
        astring(Array(field.utf8))
        text(" ")
        string(Array(value.utf8))
      case .and(let keys):
        text("(")
        for (index, key) in keys.enumerated() {
          if index > 0 { text(" ") }
          searchKey(key)
        }
        text(")")
      case .not(let key):
        text("NOT ")
        searchKey(key)
      }
    }

    static func searchDate(_ year: Int, _ month: Int, _ day: Int) -> String {
      let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
      return "\(day)-\(months[max(1, min(12, month)) - 1])-\(year)"
    }

    /// ASTRING-CHAR = ATOM-CHAR / "]" (7-bit only).
    static func isAStringChar(_ byte: UInt8) -> Bool {
      switch byte {
      case 0...0x20, 0x7F...0xFF, UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "%"),
        UInt8(ascii: "*"), UInt8(ascii: "\""), UInt8(ascii: "\\"):
        return false
      default: return true
      }
    }

    static func isNil(_ value: [UInt8]) -> Bool { value.count == 3 && value.map { $0 & 0xDF } == Array("NIL".utf8) }
  }
}
