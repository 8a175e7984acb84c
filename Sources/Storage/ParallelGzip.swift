import CZlib
import Dispatch
import Foundation

/// Compresses one gzip member on several cores, the way pigz does: the input is cut into
/// chunks, each deflated on its own thread (primed with the 32 KB before it, so the ratio
/// stays close to a single stream) and ended on a byte boundary with a sync flush; the
/// chunks' raw deflate data joined in order is one valid deflate stream. The member has the
/// same header, trailer and contents as `GzipWriter.compress` would write; only the
/// compressed bytes differ slightly.
///
/// Runs on Dispatch's worker threads (`concurrentPerform`), never on the cooperative pool;
/// call it from a thread that may block.
public enum ParallelGzip {
  /// Input below this is compressed on the calling thread: splitting would cost more than
  /// it saves.
  public static let chunkSize = 128 * 1024
  /// Deflate's window: the dictionary each chunk is primed with.
  private static let window = 32 * 1024

  /// `bytes` as one complete gzip member, compressed on up to `threads` threads.
  public static func compress(
    _ bytes: [UInt8], level: Int32 = 6, threads: Int = ParallelGzip.availableCores
  ) throws -> [UInt8] {
    let chunkCount = (bytes.count + chunkSize - 1) / chunkSize
    guard threads > 1, chunkCount > 1 else { return try GzipWriter.compress(bytes, level: level) }
    let parts = ChunkResults(count: chunkCount)
    // Chunks are handed out in order; each thread takes the next one left.
    DispatchQueue.concurrentPerform(iterations: min(threads, chunkCount)) { _ in
      while let index = parts.claim() {
        let start = index * chunkSize
        let end = min(start + chunkSize, bytes.count)
        let result = Result {
          try bytes.withUnsafeBytes { input in
            try deflateChunk(
              UnsafeRawBufferPointer(rebasing: input[start..<end]),
              dictionary: UnsafeRawBufferPointer(rebasing: input[max(0, start - window)..<start]), level: level,
              isLast: index == chunkCount - 1)
          }
        }
        parts.store(index, result)
      }
    }
    var member = header(level: level)
    var crc: uLong = crc32(0, nil, 0)
    for index in 0..<chunkCount {
      let part = try parts.result(index).get()
      member += part.deflated
      crc = crc32_combine(crc, part.crc, off_t(part.length))
    }
    appendLittleEndian(UInt32(truncatingIfNeeded: crc), to: &member)
    appendLittleEndian(UInt32(truncatingIfNeeded: bytes.count), to: &member)
    return member
  }

  /// The cores this process may use.
  public static var availableCores: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

  struct Chunk: Sendable {
    var deflated: [UInt8]
    var crc: uLong
    var length: Int
  }

  /// Raw deflate data of one chunk: ends with a sync flush (byte-aligned, not final) unless
  /// it is the last, which ends the stream.
  private static func deflateChunk(
    _ input: UnsafeRawBufferPointer, dictionary: UnsafeRawBufferPointer, level: Int32, isLast: Bool
  ) throws -> Chunk {
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    defer {
      deflateEnd(stream)
      stream.deinitialize(count: 1)
      stream.deallocate()
    }
    // windowBits -15: raw deflate, no header or trailer of its own.
    let status = mf_deflateInit2(stream, level, -15, 8)
    guard status == Z_OK else { throw GzipError.zlib(operation: "deflateInit2", code: status) }
    if let base = dictionary.baseAddress, dictionary.count > 0 {
      let set = deflateSetDictionary(stream, base.assumingMemoryBound(to: Bytef.self), uInt(dictionary.count))
      guard set == Z_OK else { throw GzipError.zlib(operation: "deflateSetDictionary", code: set) }
    }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(input.count))) + 16)
    let flush = isLast ? Z_FINISH : Z_SYNC_FLUSH
    let produced: Int = try output.withUnsafeMutableBytes { out in
      stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
      stream.pointee.avail_in = uInt(input.count)
      stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
      stream.pointee.avail_out = uInt(out.count)
      let result = deflate(stream, flush)
      let complete = isLast ? result == Z_STREAM_END : result == Z_OK && stream.pointee.avail_in == 0
      guard complete else { throw GzipError.zlib(operation: "deflate", code: result) }
      return out.count - Int(stream.pointee.avail_out)
    }
    output.removeSubrange(produced...)
    let crc = crc32(0, input.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(input.count))
    return Chunk(deflated: output, crc: crc, length: input.count)
  }

  /// The ten bytes zlib writes before a member: magic, deflate, no flags, no time, the
  /// level hint, Unix.
  private static func header(level: Int32) -> [UInt8] {
    let extraFlags: UInt8 = level == 9 ? 2 : (level >= 0 && level < 2 ? 4 : 0)
    return [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, 3]
  }

  private static func appendLittleEndian(_ value: UInt32, to bytes: inout [UInt8]) {
    for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
  }
}

/// The chunks' results, filled by the compressing threads; each slot is written once,
/// under the lock, and read after `concurrentPerform` returns.
private final class ChunkResults: @unchecked Sendable {
  private let lock = NSLock()
  private var next = 0
  private var results: [Result<ParallelGzip.Chunk, any Error>?]

  init(count: Int) { results = Array(repeating: nil, count: count) }

  func claim() -> Int? {
    lock.withLock {
      guard next < results.count else { return nil }
      defer { next += 1 }
      return next
    }
  }

  func store(_ index: Int, _ result: Result<ParallelGzip.Chunk, any Error>) {
    lock.withLock { results[index] = result }
  }

  func result(_ index: Int) -> Result<ParallelGzip.Chunk, any Error> { results[index]! }
}
