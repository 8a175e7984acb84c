/// Prepares message bytes for DATA (RFC 5321 §4.5.2): a dot at the start of a line is
/// doubled, a bare LF or CR becomes CRLF (SMTP allows no other line ending), the message
/// ends with CRLF, and `.CRLF` terminates it.
public enum DotStuffer {
  public static func stuff(_ message: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(message.count + message.count / 50 + 5)
    var stream = DotStuffingStream()
    message.withUnsafeBytes { stream.stuff($0, into: &output) }
    stream.finish(into: &output)
    return output
  }
}

/// `DotStuffer` for a message that arrives in chunks (a spooled message sent from its file):
/// the same output, chunk by chunk.
public struct DotStuffingStream {
  private var atLineStart = true
  /// The last byte was a CR: a LF right after it belongs to the same line ending.
  private var afterCR = false

  public init() {}

  public mutating func stuff(_ chunk: UnsafeRawBufferPointer, into output: inout [UInt8]) {
    for byte in chunk {
      if afterCR {
        afterCR = false
        if byte == 0x0A { continue }
      }
      if atLineStart && byte == UInt8(ascii: ".") { output.append(UInt8(ascii: ".")) }
      switch byte {
      case 0x0D:
        output.append(contentsOf: [0x0D, 0x0A])
        atLineStart = true
        afterCR = true
      case 0x0A:
        output.append(contentsOf: [0x0D, 0x0A])
        atLineStart = true
      default:
        output.append(byte)
        atLineStart = false
      }
    }
  }

  /// Ends the last line and adds the terminating `.CRLF`.
  public mutating func finish(into output: inout [UInt8]) {
    if !atLineStart { output.append(contentsOf: [0x0D, 0x0A]) }
    output.append(contentsOf: Array(".\r\n".utf8))
  }
}
