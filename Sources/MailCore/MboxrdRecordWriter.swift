/// `Mboxrd.record` for a message read in chunks (a spooled body): after
/// `Mboxrd.separatorLine`, each chunk quoted as it comes (`MboxrdQuoter` quotes a
/// `>*From ` line that a chunk boundary splits as if it were whole), then the line end a
/// message may lack and the empty line. The same bytes, and the message is never held whole.
public struct MboxrdRecordWriter {
  private var quoter = MboxrdQuoter()
  private var lastByte: UInt8?

  public init() {}

  /// Appends the next chunk of the message, quoted, to `out`.
  public mutating func add(_ chunk: UnsafeRawBufferPointer, into out: inout [UInt8]) {
    quoter.quote(chunk, into: &out)
    if let last = chunk.last { lastByte = last }
  }

  /// Appends what ends the record.
  public mutating func finish(into out: inout [UInt8]) {
    quoter.finish(into: &out)
    if lastByte != 0x0A { out.append(0x0A) }
    out.append(0x0A)
  }
}
