#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `Mboxrd.appendQuoted` (or, unquoting, `Mboxrd.unquote`) for a message that arrives in
/// chunks (a spooled message written into an archive or read out of one): the same output,
/// holding back only the start of the current line while it may still turn out to be
/// `>*From `.
public struct MboxrdQuoter {
  private static let from: [UInt8] = Array("From ".utf8)

  /// At a line start still undecided: the `>`s seen and how much of "From " followed.
  private var atLineStart = true
  private var greaterThans = 0
  private var fromMatched = 0
  private let unquoting: Bool

  /// Adds one `>` to every `>*From ` line; with `unquoting`, removes one from every
  /// `>+From ` line.
  public init(unquoting: Bool = false) {
    self.unquoting = unquoting
  }

  /// Quotes the next chunk of the message, appending to `out`.
  public mutating func quote(_ chunk: UnsafeRawBufferPointer, into out: inout [UInt8]) {
    guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
    var index = 0
    while index < chunk.count {
      if atLineStart {
        let byte = chunk[index]
        if fromMatched == 0 && byte == UInt8(ascii: ">") {
          greaterThans += 1
          index += 1
        } else if byte == Self.from[fromMatched] {
          fromMatched += 1
          index += 1
          if fromMatched == Self.from.count {
            if !unquoting {
              out.append(UInt8(ascii: ">"))
            } else if greaterThans > 0 {
              greaterThans -= 1
            }
            writeHeldBack(into: &out)
          }
        } else {
          writeHeldBack(into: &out)  // the byte itself is copied with the rest of the line
        }
        continue
      }
      if let found = memchr(base + index, 0x0A, chunk.count - index) {
        let end = base.distance(to: UnsafeRawPointer(found)) + 1
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[index..<end]))
        index = end
        atLineStart = true
      } else {
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[index..<chunk.count]))
        index = chunk.count
      }
    }
  }

  /// Writes what is still held back (a last line that began like `>*From` and ended there).
  public mutating func finish(into out: inout [UInt8]) {
    if atLineStart { writeHeldBack(into: &out) }
  }

  private mutating func writeHeldBack(into out: inout [UInt8]) {
    out.append(contentsOf: repeatElement(UInt8(ascii: ">"), count: greaterThans))
    out += Self.from[0..<fromMatched]
    atLineStart = false
    greaterThans = 0
    fromMatched = 0
  }
}
