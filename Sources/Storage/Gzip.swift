import CZlib
import MailCore

/// A zlib failure while compressing or decompressing.
public enum GzipError: UserFacingError, Equatable, Sendable {
  /// The data ended inside a member; `validLength` compressed bytes hold complete members.
  case truncated(validLength: Int)
  /// The compressed data is damaged at or after `memberOffset` (the start of the member).
  case corrupt(memberOffset: Int, reason: String)
  case zlib(operation: String, code: Int32)

  public var description: String {
    switch self {
    case .truncated(let validLength):
      return "compressed data ends inside a gzip member (the complete members end at byte \(validLength))"
    case .corrupt(let offset, let reason):
      return "compressed data is damaged in the gzip member starting at byte \(offset): \(reason)"
    case .zlib(let operation, let code):
      return "zlib \(operation) failed with code \(code)"
    }
  }

  public var hint: String? {
    switch self {
    case .truncated, .corrupt:
      return "the compressed file is damaged; 'mailferry archive verify DIR' shows what can still be read"
    case .zlib: return "please report this with the command that caused it"
    }
  }

  /// Damage in one file stops reading that file's folder; the others go on.
  public var scope: FailureScope { .folder }
  public var isTemporary: Bool { false }
  public var kind: FailureKind { .inputData }
}

/// Writes gzip members (RFC 1952). Each `finishMember` closes one complete member, so a file
/// can grow by appending members and every reader (`zcat`, Python's gzip) sees one stream.
///
/// Owns a heap-allocated `z_stream` (zlib keeps pointers into it, so it must not move).
/// One owner at a time.
public final class GzipWriter {
  private let stream: UnsafeMutablePointer<z_stream>
  private var output = [UInt8](repeating: 0, count: 64 * 1024)
  private let sink: (UnsafeRawBufferPointer) throws -> Void
  private var inMember = false
  private let level: Int32
  /// Compressed bytes written since this writer was created.
  public private(set) var compressedBytesWritten = 0

  /// `level` 1 is fast (~140 MB/s on mail text), 6 is zlib's default, 9 is smallest.
  public init(level: Int32 = 6, sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
    self.level = level
    self.sink = sink
    stream = .allocate(capacity: 1)
    stream.initialize(to: z_stream())
  }

  deinit {
    if inMember { deflateEnd(stream) }
    stream.deinitialize(count: 1)
    stream.deallocate()
  }

  /// Compresses `bytes` into the current member, starting one if needed.
  public func write(_ bytes: UnsafeRawBufferPointer) throws {
    try beginMemberIfNeeded()
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
    stream.pointee.avail_in = uInt(bytes.count)
    try pump(flush: Z_NO_FLUSH)
  }

  public func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try write($0) }
  }

  /// Ends the current member (writing its CRC and length trailer).
  public func finishMember() throws {
    try beginMemberIfNeeded()
    stream.pointee.next_in = nil
    stream.pointee.avail_in = 0
    try pump(flush: Z_FINISH)
    deflateEnd(stream)
    inMember = false
  }

  private func beginMemberIfNeeded() throws {
    guard !inMember else { return }
    stream.pointee = z_stream()
    // windowBits 31 = 15 + 16: a gzip header and trailer around raw deflate.
    let status = mf_deflateInit2(stream, level, 31, 8)
    guard status == Z_OK else { throw GzipError.zlib(operation: "deflateInit2", code: status) }
    inMember = true
  }

  private func pump(flush: Int32) throws {
    while true {
      let status: Int32 = output.withUnsafeMutableBytes { out in
        stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(out.count)
        return deflate(stream, flush)
      }
      let produced = output.count - Int(stream.pointee.avail_out)
      if produced > 0 {
        try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
        compressedBytesWritten += produced
      }
      if flush == Z_FINISH {
        if status == Z_STREAM_END { return }
        guard status == Z_OK || status == Z_BUF_ERROR else { throw GzipError.zlib(operation: "deflate", code: status) }
      } else {
        guard status == Z_OK || status == Z_BUF_ERROR else { throw GzipError.zlib(operation: "deflate", code: status) }
        if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
      }
    }
  }

  /// Compresses `bytes` as one complete gzip member in memory.
  public static func compress(_ bytes: [UInt8], level: Int32 = 6) throws -> [UInt8] {
    var result = [UInt8]()
    let writer = GzipWriter(level: level) { result.append(contentsOf: $0) }
    try writer.write(bytes)
    try writer.finishMember()
    return result
  }
}

/// Reads a gzip file made of one or more members, delivering decompressed bytes in chunks
/// and telling where each member ends, so callers can index members and find a torn tail.
public final class GzipReader {
  private let stream: UnsafeMutablePointer<z_stream>
  private var input = [UInt8](repeating: 0, count: 64 * 1024)
  private var output = [UInt8](repeating: 0, count: 64 * 1024)
  private let source: (UnsafeMutableRawBufferPointer) throws -> Int

  /// `source` fills the buffer it is given and returns the count, 0 at the end.
  public init(source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
    self.source = source
    stream = .allocate(capacity: 1)
    stream.initialize(to: z_stream())
    // windowBits 47 = 15 + 32: detect gzip or zlib headers automatically.
    let status = mf_inflateInit2(stream, 47)
    guard status == Z_OK else {
      stream.deallocate()
      throw GzipError.zlib(operation: "inflateInit2", code: status)
    }
  }

  deinit {
    inflateEnd(stream)
    stream.deinitialize(count: 1)
    stream.deallocate()
  }

  /// Reads to the end. `onData` gets each decompressed chunk; `onMemberEnd` gets the
  /// compressed offset just past each member that ended. Throws `.truncated` when the data
  /// ends inside a member and `.corrupt` when a member is damaged.
  public func readAll(
    onData: (UnsafeRawBufferPointer) throws -> Void,
    onMemberEnd: (_ compressedEnd: Int) throws -> Void = { _ in }
  ) throws {
    var consumedTotal = 0  // compressed bytes handed to inflate and consumed
    var memberStart = 0
    var memberHasInput = false
    var finished = false
    while !finished {
      let count = try input.withUnsafeMutableBytes { try source($0) }
      if count == 0 {
        finished = true
        if memberHasInput { throw GzipError.truncated(validLength: memberStart) }
        break
      }
      var offset = 0
      while offset < count {
        let (status, used) = try inflateChunk(from: offset, count: count, onData: onData)
        offset += used
        consumedTotal += used
        if used > 0 { memberHasInput = true }
        switch status {
        case Z_STREAM_END:
          try onMemberEnd(consumedTotal)
          memberStart = consumedTotal
          memberHasInput = false
          inflateReset(stream)
        case Z_OK, Z_BUF_ERROR:
          continue
        default:
          let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib code \(status)"
          throw GzipError.corrupt(memberOffset: memberStart, reason: reason)
        }
      }
    }
  }

  /// Inflates from `input[offset..<count]` until input is used up or a member ends.
  private func inflateChunk(
    from offset: Int, count: Int, onData: (UnsafeRawBufferPointer) throws -> Void
  ) throws -> (Int32, Int) {
    try input.withUnsafeMutableBytes { inBuffer in
      stream.pointee.next_in = inBuffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self)
      stream.pointee.avail_in = uInt(count - offset)
      var status: Int32 = Z_OK
      repeat {
        status = output.withUnsafeMutableBytes { out in
          stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
          stream.pointee.avail_out = uInt(out.count)
          return inflate(stream, Z_NO_FLUSH)
        }
        let produced = output.count - Int(stream.pointee.avail_out)
        if produced > 0 {
          try output.withUnsafeBytes { try onData(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
        }
        if status != Z_OK { break }
      } while stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0
      let used = (count - offset) - Int(stream.pointee.avail_in)
      return (status, used)
    }
  }

  /// Decompresses an in-memory gzip stream of one or more members.
  public static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
    var position = 0
    let reader = try GzipReader { buffer in
      let count = min(buffer.count, bytes.count - position)
      bytes.withUnsafeBytes {
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<position + count]))
      }
      position += count
      return count
    }
    var result = [UInt8]()
    try reader.readAll(onData: { result.append(contentsOf: $0) })
    return result
  }
}
