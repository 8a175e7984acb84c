/// Incremental IMAP response parser: fed whatever bytes have arrived, it returns one event
/// at a time and says how many bytes it used. It never touches a socket.
///
/// Responses are held in memory until complete, within `IMAPParserLimits.maxResponseBytes`
/// for their text and literals together, except the literals of FETCH body sections
/// (`BODY[…]`, `BINARY[…]`, `RFC822…`), which are handed out as they arrive: a
/// `bodyBegin`, then `bodyBytes` ranges of the caller's own buffer (no copy), then
/// `bodyEnd`. The complete FETCH response follows with the remaining attributes.
public struct ResponseParser: Sendable {
  public enum Event: Equatable, Sendable {
    case response(Response)
    case bodyBegin(BodyStreamStart)
    /// These bytes of the buffer passed to `parse` are body data.
    case bodyBytes(Range<Int>)
    case bodyEnd
  }

  /// What one call did: at most one event, and the bytes to drop from the front of the
  /// buffer (always drop them, even when there is no event).
  public struct Step: Equatable, Sendable {
    public let event: Event?
    public let consumed: Int
  }

  private enum Mode: Equatable {
    case line
    case literal(remaining: UInt64)
    case streaming(remaining: UInt64)
    case streamEnded
  }

  public let limits: IMAPParserLimits
  private var pending: [UInt8] = []
  private var textLength = 0
  private var streamed: [Int: ResponseGrammar.StreamedLiteral] = [:]
  private var mode = Mode.line

  public init(limits: IMAPParserLimits = IMAPParserLimits()) {
    self.limits = limits
  }

  /// True between responses: nothing is half-read.
  public var isIdle: Bool { mode == .line && pending.isEmpty }

  /// Parses from the start of `buffer`.
  public mutating func parse(_ buffer: UnsafeRawBufferPointer) throws -> Step {
    var offset = 0
    while true {
      switch mode {
      case .streamEnded:
        mode = .line
        return Step(event: .bodyEnd, consumed: offset)

      case .streaming(let remaining):
        let available = buffer.count - offset
        guard available > 0 else { return Step(event: nil, consumed: offset) }
        let take = Int(min(UInt64(available), remaining))
        mode = remaining == UInt64(take) ? .streamEnded : .streaming(remaining: remaining - UInt64(take))
        return Step(event: .bodyBytes(offset..<offset + take), consumed: offset + take)

      case .literal(let remaining):
        let available = buffer.count - offset
        guard available > 0 else { return Step(event: nil, consumed: offset) }
        let take = Int(min(UInt64(available), remaining))
        pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + take]))
        offset += take
        mode = remaining == UInt64(take) ? .line : .literal(remaining: remaining - UInt64(take))

      case .line:
        let textRoom = limits.maxLineLength - textLength
        let responseRoom = limits.maxResponseBytes - pending.count
        let room = max(0, min(textRoom, responseRoom))
        let searchEnd = min(buffer.count, offset + room + 2)
        guard let newline = buffer[offset..<searchEnd].firstIndex(of: 0x0A) else {
          if buffer.count - offset > room { throw budgetExceeded(textRoom: textRoom, responseRoom: responseRoom) }
          return Step(event: nil, consumed: offset)
        }
        let line = UnsafeRawBufferPointer(rebasing: buffer[offset...newline])
        pending.append(contentsOf: line)
        textLength += line.count
        offset = newline + 1
        guard let literal = literalAtEnd(of: line) else {
          let response = try finishResponse()
          return Step(event: .response(response), consumed: offset)
        }
        if let start = try bodyStreamStart(size: literal.size, binary: literal.binary) {
          mode = literal.size == 0 ? .streamEnded : .streaming(remaining: literal.size)
          return Step(event: .bodyBegin(start), consumed: offset)
        }
        guard literal.size <= limits.maxInMemoryLiteral else {
          throw IMAPParseError.literalTooLarge(size: literal.size, limit: limits.maxInMemoryLiteral)
        }
        guard literal.size <= UInt64(max(0, limits.maxResponseBytes - pending.count)) else {
          throw IMAPParseError.responseTooLarge(limit: limits.maxResponseBytes)
        }
        if literal.size > 0 { mode = .literal(remaining: literal.size) }
      }
    }
  }

  /// The error for a response that outgrew `textRoom` (its text) or `responseRoom` (text and
  /// literals together).
  private func budgetExceeded(textRoom: Int, responseRoom: Int) -> IMAPParseError {
    textRoom <= responseRoom
      ? .lineTooLong(limit: limits.maxLineLength) : .responseTooLarge(limit: limits.maxResponseBytes)
  }

  private mutating func finishResponse() throws -> Response {
    var grammar = ResponseGrammar(bytes: pending, streamed: streamed, limits: limits)
    defer {
      pending.removeAll(keepingCapacity: pending.capacity <= 1 << 16)
      streamed.removeAll()
      textLength = 0
    }
    do {
      return try grammar.parseResponse()
    } catch let error as IMAPParseError {
      throw error
    } catch {
      throw IMAPParseError.malformed(reason: "literal in an unexpected place", excerpt: "")
    }
  }

  /// When the literal just announced is a FETCH body section, registers it as streamed and
  /// returns what preceded it; otherwise nil (the literal is read into memory).
  private mutating func bodyStreamStart(size: UInt64, binary: Bool) throws -> BodyStreamStart? {
    guard isFetchResponse() else { return nil }
    let position = pending.count
    streamed[position] = ResponseGrammar.StreamedLiteral(size: size, binary: binary)
    var grammar = ResponseGrammar(bytes: pending, streamed: streamed, limits: limits, partial: true)
    do {
      _ = try grammar.parseResponse()
    } catch ResponseGrammar.Interruption.reachedStream(let start) {
      guard size <= limits.maxStreamedLiteral else {
        throw IMAPParseError.literalTooLarge(size: size, limit: limits.maxStreamedLiteral)
      }
      return start
    } catch ResponseGrammar.Interruption.streamedOutsideBody {
    } catch let error as IMAPParseError {
      throw error
    }
    streamed[position] = nil
    return nil
  }

  /// Whether the response being collected starts `* <number> FETCH`.
  private func isFetchResponse() -> Bool {
    guard pending.count > 8, pending[0] == UInt8(ascii: "*"), pending[1] == UInt8(ascii: " ") else { return false }
    var index = 2
    while index < pending.count, pending[index] >= 0x30, pending[index] <= 0x39 { index += 1 }
    guard index > 2, index + 6 <= pending.count else { return false }
    return pending[index..<index + 6].map { $0 & 0xDF } == Array(" FETCH".utf8).map { $0 & 0xDF }
  }

  /// `{n}`, `{n+}` or `~{n}` at the end of a line (before CRLF or LF).
  private func literalAtEnd(of line: UnsafeRawBufferPointer) -> (size: UInt64, binary: Bool)? {
    var end = line.count - 1  // the LF
    if end > 0 && line[end - 1] == 0x0D { end -= 1 }
    guard end > 0, line[end - 1] == UInt8(ascii: "}") else { return nil }
    var index = end - 2
    if index >= 0 && line[index] == UInt8(ascii: "+") { index -= 1 }
    let digitsEnd = index + 1
    while index >= 0 && line[index] >= 0x30 && line[index] <= 0x39 { index -= 1 }
    guard index >= 0, line[index] == UInt8(ascii: "{"), digitsEnd - index - 1 > 0, digitsEnd - index - 1 <= 19 else {
      return nil
    }
    let size = line[(index + 1)..<digitsEnd].reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
    let binary = index > 0 && line[index - 1] == UInt8(ascii: "~")
    return (size, binary)
  }
}
