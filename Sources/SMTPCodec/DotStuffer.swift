/// Prepares message bytes for DATA (RFC 5321 §4.5.2): a dot at the start of a line is
/// doubled, a bare LF or CR becomes CRLF (SMTP allows no other line ending), the message
/// ends with CRLF, and `.CRLF` terminates it.
public enum DotStuffer {
  public static func stuff(_ message: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(message.count + message.count / 50 + 5)
    var atLineStart = true
    var index = 0
    while index < message.count {
      let byte = message[index]
      if atLineStart && byte == UInt8(ascii: ".") { output.append(UInt8(ascii: ".")) }
      switch byte {
      case 0x0D:
        output.append(contentsOf: [0x0D, 0x0A])
        if index + 1 < message.count && message[index + 1] == 0x0A { index += 1 }
        atLineStart = true
      case 0x0A:
        output.append(contentsOf: [0x0D, 0x0A])
        atLineStart = true
      default:
        output.append(byte)
        atLineStart = false
      }
      index += 1
    }
    if !atLineStart { output.append(contentsOf: [0x0D, 0x0A]) }
    output.append(contentsOf: Array(".\r\n".utf8))
    return output
  }
}
