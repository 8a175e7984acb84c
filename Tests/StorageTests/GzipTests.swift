import Foundation
import Storage
import Testing

@Suite struct GzipTests {
  static let mailLike: [UInt8] = (0..<2000).flatMap { index in
    Array("From: sender\(index % 17)@example.org\r\nSubject: line \(index)\r\n\r\nBody text number \(index).\r\n".utf8)
  }

  @Test func roundTripOfOneMember() throws {
    let compressed = try GzipWriter.compress(Self.mailLike)
    #expect(compressed.count < Self.mailLike.count / 3)
    #expect(compressed.prefix(2) == [0x1f, 0x8b])  // gzip magic, so zcat can read it
    #expect(try GzipReader.decompress(compressed) == Self.mailLike)
  }

  @Test func emptyInputRoundTrips() throws {
    #expect(try GzipReader.decompress(try GzipWriter.compress([])) == [])
  }

  @Test func membersAppendedToAFileReadAsOneStream() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.file("segment.gz")
    let parts: [[UInt8]] = [Array("first member\n".utf8), Self.mailLike, Array("third\n".utf8)]
    var memberEnds: [Int] = []
    for part in parts {
      // Each append opens the file anew, as a later run appending to an archive does.
      if !FileManager.default.fileExists(atPath: path) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
      }
      let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
      handle.seekToEndOfFile()
      let writer = GzipWriter { handle.write(Data($0)) }
      try writer.write(part)
      try writer.finishMember()
      try handle.close()
      memberEnds.append(Int((try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue))
    }
    let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    var reported: [Int] = []
    var result: [UInt8] = []
    var position = 0
    let reader = try GzipReader { buffer in
      // Small reads so members straddle input chunks.
      let count = min(buffer.count, 1000, data.count - position)
      data.withUnsafeBytes {
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<position + count]))
      }
      position += count
      return count
    }
    try reader.readAll(onData: { result += $0 }, onMemberEnd: { reported.append($0) })
    #expect(result == parts.flatMap { $0 })
    #expect(reported == memberEnds)
  }

  @Test func zcatReadsConcatenatedMembers() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let bytes = try GzipWriter.compress(Array("one\n".utf8)) + GzipWriter.compress(Array("two\n".utf8))
    let path = directory.file("two.gz")
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "gzip -dc '\(path)' > '\(path).out'"]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    #expect(try String(contentsOfFile: "\(path).out", encoding: .utf8) == "one\ntwo\n")
  }

  @Test func truncatedFileReportsTheLastCompleteMember() throws {
    let first = try GzipWriter.compress(Array("complete\n".utf8))
    let second = try GzipWriter.compress(Self.mailLike)
    let cut = first + second.prefix(second.count / 2)
    var delivered: [UInt8] = []
    #expect(throws: GzipError.truncated(validLength: first.count)) {
      try Self.read(cut) { delivered += $0 }
    }
    #expect(delivered.starts(with: Array("complete\n".utf8)))
  }

  @Test func corruptMemberIsNamedByItsOffset() throws {
    let first = try GzipWriter.compress(Array("complete\n".utf8))
    var second = try GzipWriter.compress(Self.mailLike)
    for index in 20..<60 { second[index] ^= 0x5a }
    do {
      try Self.read(first + second) { _ in }
      Issue.record("damaged data was accepted")
    } catch GzipError.corrupt(let offset, _) {
      #expect(offset == first.count)
    } catch GzipError.truncated(let valid) {
      // zlib may also see the damage as a premature end; the valid prefix is still exact.
      #expect(valid == first.count)
    }
  }

  @Test func garbageIsNotGzip() {
    #expect(throws: GzipError.self) { try GzipReader.decompress(Array("plain text, not gzip".utf8)) }
  }

  static func read(
    _ bytes: [UInt8], onData: (UnsafeRawBufferPointer) throws -> Void,
    onMemberEnd: (_ compressedEnd: Int) throws -> Void = { _ in }
  ) throws {
    var position = 0
    let reader = try GzipReader { buffer in
      let count = min(buffer.count, bytes.count - position)
      bytes.withUnsafeBytes {
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<position + count]))
      }
      position += count
      return count
    }
    try reader.readAll(onData: onData, onMemberEnd: onMemberEnd)
  }
}
