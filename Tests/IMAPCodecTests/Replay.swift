import IMAPCodec

/// What a parse produced, with streamed bodies reassembled, for comparison.
enum Parsed: Equatable {
  case response(Response)
  case body(BodyStreamStart, [UInt8])
}

/// Feeds `wire` to a fresh parser in pieces of `pieceSize` bytes (nil: all at once), the way
/// a connection's buffer fills, and collects everything parsed. Throws the parser's error;
/// `incomplete` is true when bytes were left over at the end.
func replay(
  _ wire: [UInt8], pieceSize: Int? = nil, limits: IMAPParserLimits = IMAPParserLimits()
) throws -> (parsed: [Parsed], incomplete: Bool, largestChunk: Int) {
  var parser = ResponseParser(limits: limits)
  var buffer: [UInt8] = []
  var fed = 0
  var results: [Parsed] = []
  var body: (BodyStreamStart, [UInt8])?
  var largestChunk = 0
  while true {
    let step = try buffer.withUnsafeBytes { try parser.parse($0) }
    switch step.event {
    case .response(let response)?: results.append(.response(response))
    case .bodyBegin(let start)?: body = (start, [])
    case .bodyBytes(let range)?:
      body?.1.append(contentsOf: buffer[range])
      largestChunk = max(largestChunk, range.count)
    case .bodyEnd?:
      if let body { results.append(.body(body.0, body.1)) }
      body = nil
    case nil: break
    }
    buffer.removeFirst(step.consumed)
    if step.event == nil {
      guard fed < wire.count else { return (results, !buffer.isEmpty || !parser.isIdle, largestChunk) }
      let take = min(pieceSize ?? wire.count, wire.count - fed)
      buffer += wire[fed..<fed + take]
      fed += take
    }
  }
}

/// Parses `wire` all at once, byte by byte and in 7-byte pieces, demands the same result
/// each way, and returns it.
func parseEveryWay(_ text: String) throws -> [Parsed] {
  let wire = Array(text.utf8)
  let whole = try replay(wire)
  let byteByByte = try replay(wire, pieceSize: 1)
  let sevens = try replay(wire, pieceSize: 7)
  guard whole.parsed == byteByByte.parsed && whole.parsed == sevens.parsed else {
    throw ReplayFailure(description: "results differ by piece size")
  }
  guard !whole.incomplete else { throw ReplayFailure(description: "input left unparsed") }
  return whole.parsed
}

func responses(_ text: String) throws -> [Response] {
  try parseEveryWay(text).compactMap { if case .response(let response) = $0 { return response } else { return nil } }
}

func single(_ text: String) throws -> Response {
  let all = try responses(text)
  guard all.count == 1 else { throw ReplayFailure(description: "expected one response, got \(all.count)") }
  return all[0]
}

struct ReplayFailure: Error, CustomStringConvertible {
  let description: String
}
