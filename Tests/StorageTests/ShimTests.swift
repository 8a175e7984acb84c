import CSQLite
import CZlib
import Testing

/// The C macros wrapped in the shims behave as the macros do.
@Suite struct ShimTests {
  @Test func sqliteTransientCopiesTheBoundBytes() throws {
    var database: OpaquePointer?
    #expect(sqlite3_open(":memory:", &database) == SQLITE_OK)
    defer { sqlite3_close(database) }
    var statement: OpaquePointer?
    #expect(sqlite3_prepare_v2(database, "SELECT ?", -1, &statement, nil) == SQLITE_OK)
    defer { sqlite3_finalize(statement) }
    var text = Array("original".utf8CString)
    text.withUnsafeBufferPointer { _ = sqlite3_bind_text(statement, 1, $0.baseAddress, -1, mf_sqlite_transient()) }
    // Overwrite our buffer: with SQLITE_TRANSIENT, SQLite kept its own copy.
    for index in text.indices.dropLast() { text[index] = CChar(UInt8(ascii: "x")) }
    #expect(sqlite3_step(statement) == SQLITE_ROW)
    #expect(String(cString: sqlite3_column_text(statement, 0)) == "original")
  }

  @Test func rawDeflateHasNoHeaderAndInflatesBack() throws {
    let input = Array(String(repeating: "a mail line\r\n", count: 100).utf8)
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    defer { stream.deallocate() }
    #expect(mf_deflateInit2(stream, 6, -15, 8) == Z_OK)
    var compressed = [UInt8](repeating: 0, count: 4096)
    var input2 = input
    let produced = input2.withUnsafeMutableBufferPointer { inBuffer in
      compressed.withUnsafeMutableBufferPointer { outBuffer in
        stream.pointee.next_in = inBuffer.baseAddress
        stream.pointee.avail_in = uInt(inBuffer.count)
        stream.pointee.next_out = outBuffer.baseAddress
        stream.pointee.avail_out = uInt(outBuffer.count)
        #expect(deflate(stream, Z_SYNC_FLUSH) == Z_OK)
        return outBuffer.count - Int(stream.pointee.avail_out)
      }
    }
    deflateEnd(stream)
    compressed.removeSubrange(produced...)
    // A sync flush ends with an empty stored block: 00 00 ff ff. No zlib or gzip header.
    #expect(compressed.suffix(4) == [0x00, 0x00, 0xff, 0xff])
    #expect(compressed.prefix(2) != [0x1f, 0x8b])
    #expect(compressed.first != 0x78)

    stream.initialize(to: z_stream())
    #expect(mf_inflateInit2(stream, -15) == Z_OK)
    var output = [UInt8](repeating: 0, count: 8192)
    let inflated = compressed.withUnsafeMutableBufferPointer { inBuffer in
      output.withUnsafeMutableBufferPointer { outBuffer in
        stream.pointee.next_in = inBuffer.baseAddress
        stream.pointee.avail_in = uInt(inBuffer.count)
        stream.pointee.next_out = outBuffer.baseAddress
        stream.pointee.avail_out = uInt(outBuffer.count)
        _ = inflate(stream, Z_SYNC_FLUSH)
        return outBuffer.count - Int(stream.pointee.avail_out)
      }
    }
    inflateEnd(stream)
    #expect(Array(output[..<inflated]) == input)
  }
}
