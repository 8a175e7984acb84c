import Foundation
import MailCore
import Storage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension Archive {
  /// The exact bytes of these messages, in order. Each gzip member is decompressed once for
  /// all the messages it holds, and only as far as they reach.
  public func read(_ messages: [ArchivedMessage]) throws -> [[UInt8]] {
    var results = [[UInt8]](repeating: [], count: messages.count)
    let groups = Dictionary(grouping: messages.indices) { index -> MemberKey in
      let location = messages[index].location
      return MemberKey(directory: location.directory, file: location.file, offset: location.memberOffset)
    }
    for (member, indices) in groups.sorted(by: { ($0.key.file, $0.key.offset) < ($1.key.file, $1.key.offset) }) {
      let path = try layout.dataPath(directory: member.directory, file: member.file)
      let needed = indices.map { messages[$0].location.recordOffset + messages[$0].location.recordLength }.max() ?? 0
      let plain = try MemberReader.decompress(path: path, memberOffset: member.offset, upTo: needed)
      for index in indices {
        let message = messages[index]
        results[index] = try Self.message(
          in: plain, location: message.location, size: message.size, path: path)
      }
    }
    return results
  }

  /// Cuts one message out of a decompressed member: drop the separator line, unquote,
  /// keep `size` bytes.
  static func message(in plain: [UInt8], location: RecordLocation, size: Int, path: String) throws -> [UInt8] {
    let end = location.recordOffset + location.recordLength
    guard end <= plain.count else {
      throw ArchiveError.unreadable(
        path: path, offset: location.memberOffset, reason: "the gzip member ends before the message does")
    }
    let record = plain[location.recordOffset..<end]
    guard record.starts(with: Array("From ".utf8)), let newline = record.firstIndex(of: 0x0A) else {
      throw ArchiveError.unreadable(
        path: path, offset: location.memberOffset,
        reason: "no 'From ' line at byte \(location.recordOffset) of the member")
    }
    let unquoted = Mboxrd.unquote(record[(newline + 1)...])
    guard unquoted.count >= size else {
      throw ArchiveError.unreadable(path: path, offset: location.memberOffset, reason: "the record is too short")
    }
    return Array(unquoted.prefix(size))
  }
}

private struct MemberKey: Hashable {
  var directory: String
  var file: String
  var offset: Int
}

/// A data file open for reading, closed when released.
final class ReadOnlyFile {
  let path: String
  private let descriptor: Int32

  init(path: String) throws {
    self.path = path
    descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw FileError(path: path, operation: "open", errno: errno) }
  }

  deinit { close(descriptor) }

  /// Inflates the file from compressed offset `start` on (the reader keeps the file open).
  func gzipReader(from start: Int) throws -> GzipReader {
    var position = start
    return try GzipReader { [self] buffer in
      let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(position))
      if count < 0 { throw FileError(path: path, operation: "read", errno: errno) }
      position += count
      return count
    }
  }
}

/// Decompresses one gzip member of a data file, starting at its compressed offset.
enum MemberReader {
  private struct Enough: Error {}

  /// The member's decompressed bytes, at least `upTo` of them (or the whole member).
  static func decompress(path: String, memberOffset: Int, upTo needed: Int) throws -> [UInt8] {
    let file = try ReadOnlyFile(path: path)
    let reader = try file.gzipReader(from: memberOffset)
    var plain: [UInt8] = []
    do {
      try reader.readAll(
        onData: { chunk in
          plain.append(contentsOf: chunk)
          if plain.count >= needed { throw Enough() }
        },
        onMemberEnd: { _ in throw Enough() })
    } catch is Enough {
      return plain
    } catch let error as GzipError {
      throw ArchiveError.unreadable(path: path, offset: memberOffset, reason: "\(error)")
    }
    return plain
  }
}
