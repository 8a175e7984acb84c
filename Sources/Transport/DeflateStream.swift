import CZlib

/// Raw DEFLATE in both directions over another stream (RFC 4978 COMPRESS=DEFLATE):
/// every write is flushed with Z_SYNC_FLUSH so the peer can decode it at once.
///
/// Owns two heap-allocated `z_stream`s (zlib keeps pointers into them); one owner thread.
final class DeflateStream: ByteStream {
  private let inner: ByteStream
  private let peer: String
  private let deflater: UnsafeMutablePointer<z_stream>
  private let inflater: UnsafeMutablePointer<z_stream>
  private var compressedInput = [UInt8](repeating: 0, count: 32 * 1024)
  private var pendingInput = 0..<0
  private var compressedOutput = [UInt8](repeating: 0, count: 32 * 1024)
  private var inflaterHasOutput = false

  /// `initialInput` is compressed data already read from `inner` (it followed the reply
  /// that switched compression on in the same packet).
  init(inner: ByteStream, peer: String, initialInput: [UInt8] = [], level: Int32 = 1) throws {
    self.inner = inner
    self.peer = peer
    deflater = .allocate(capacity: 1)
    deflater.initialize(to: z_stream())
    inflater = .allocate(capacity: 1)
    inflater.initialize(to: z_stream())
    // windowBits -15: raw deflate, no zlib header, as RFC 4978 requires.
    guard mf_deflateInit2(deflater, level, -15, 8) == Z_OK, mf_inflateInit2(inflater, -15) == Z_OK else {
      throw TransportError.compression(peer: peer, reason: "cannot initialise zlib")
    }
    if !initialInput.isEmpty {
      if initialInput.count > compressedInput.count {
        compressedInput = [UInt8](repeating: 0, count: initialInput.count)
      }
      compressedInput.replaceSubrange(0..<initialInput.count, with: initialInput)
      pendingInput = 0..<initialInput.count
    }
  }

  deinit {
    deflateEnd(deflater)
    inflateEnd(inflater)
    deflater.deallocate()
    inflater.deallocate()
  }

  var hasBufferedInput: Bool { !pendingInput.isEmpty || inflaterHasOutput || inner.hasBufferedInput }

  func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline) throws -> Int {
    while true {
      if pendingInput.isEmpty && !inflaterHasOutput {
        let count = try compressedInput.withUnsafeMutableBytes { try inner.read(into: $0, deadline: deadline) }
        if count == 0 { return 0 }
        pendingInput = 0..<count
      }
      let produced = try inflate(into: buffer)
      if produced > 0 { return produced }
    }
  }

  /// Inflates what is pending into `buffer`; returns the bytes produced (maybe 0).
  private func inflate(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    let start = pendingInput.lowerBound
    let (status, used, produced): (Int32, Int, Int) = compressedInput.withUnsafeMutableBytes { input in
      inflater.pointee.next_in = input.baseAddress!.advanced(by: start).assumingMemoryBound(to: Bytef.self)
      inflater.pointee.avail_in = uInt(pendingInput.count)
      inflater.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
      inflater.pointee.avail_out = uInt(buffer.count)
      let status = CZlib.inflate(inflater, Z_SYNC_FLUSH)
      let used = pendingInput.count - Int(inflater.pointee.avail_in)
      return (status, used, buffer.count - Int(inflater.pointee.avail_out))
    }
    pendingInput = (start + used)..<pendingInput.upperBound
    // A full output buffer means inflate may hold more decoded bytes.
    inflaterHasOutput = produced == buffer.count
    switch status {
    case Z_OK, Z_BUF_ERROR: return produced
    case Z_STREAM_END: throw TransportError.compression(peer: peer, reason: "the server ended the compressed stream")
    default:
      let reason = inflater.pointee.msg.map { String(cString: $0) } ?? "zlib code \(status)"
      throw TransportError.compression(peer: peer, reason: reason)
    }
  }

  func write(_ bytes: UnsafeRawBufferPointer, deadline: Deadline) throws {
    guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
    deflater.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
    deflater.pointee.avail_in = uInt(bytes.count)
    repeat {
      let produced: Int = compressedOutput.withUnsafeMutableBytes { output in
        deflater.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        deflater.pointee.avail_out = uInt(output.count)
        CZlib.deflate(deflater, Z_SYNC_FLUSH)
        return output.count - Int(deflater.pointee.avail_out)
      }
      if produced > 0 {
        try compressedOutput.withUnsafeBytes {
          try inner.write(UnsafeRawBufferPointer(rebasing: $0[0..<produced]), deadline: deadline)
        }
      }
    } while deflater.pointee.avail_in > 0 || deflater.pointee.avail_out == 0
  }

  func close() { inner.close() }
}
