/// Decodes a POP3 multi-line body (RFC 1939 §3): removes the byte-stuffed leading dot of
/// lines that start with one and stops at the terminating `.` line. Works on whatever bytes
/// the connection has buffered, so a message of any size streams through in pieces.
///
/// Line endings are passed through as the server sent them (CRLF, or a bare LF from a
/// careless server); the terminator is accepted as `.CRLF` or `.LF`.
public struct DotUnstuffer: Sendable {
  private enum State: Sendable {
    case lineStart
    case inLine
    /// A dot at the start of a line: stuffing, or the terminator.
    case dot
    /// `.` then CR at the start of a line: the terminator if LF follows.
    case dotCR
  }

  private var state = State.lineStart
  public private(set) var finished = false

  public init() {}

  /// Decodes from `input`, appending message bytes to `output`. Returns how many input
  /// bytes were used: all of them, or fewer when the terminator ended the body (the rest
  /// belongs to the next reply).
  public mutating func decode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Int {
    var index = 0
    let count = input.count
    while index < count && !finished {
      switch state {
      case .inLine:
        // Fast path: copy up to and including the next LF in one go.
        let rest = UnsafeRawBufferPointer(rebasing: input[index...])
        if let newline = rest.firstIndex(of: 0x0A) {
          output.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<(newline + 1)]))
          index += newline + 1
          state = .lineStart
        } else {
          output.append(contentsOf: rest)
          index = count
        }
      case .lineStart:
        let byte = input[index]
        index += 1
        if byte == UInt8(ascii: ".") {
          state = .dot
        } else {
          output.append(byte)
          state = byte == 0x0A ? .lineStart : .inLine
        }
      case .dot:
        let byte = input[index]
        index += 1
        switch byte {
        case 0x0D: state = .dotCR
        case 0x0A: finished = true
        default:
          // ".." → "."; a lone dot before other text (a server that did not stuff) is kept.
          if byte != UInt8(ascii: ".") { output.append(UInt8(ascii: ".")) }
          output.append(byte)
          state = .inLine
        }
      case .dotCR:
        let byte = input[index]
        index += 1
        if byte == 0x0A {
          finished = true
        } else {
          // ".\r" then something other than LF: not the terminator; keep it all.
          output.append(contentsOf: [UInt8(ascii: "."), 0x0D, byte])
          state = .inLine
        }
      }
    }
    return index
  }
}
