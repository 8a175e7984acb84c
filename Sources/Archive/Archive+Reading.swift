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

extension Archive {
  /// One message inflated straight into a spool file in `directory`, for a message too
  /// large to hold: its member is read from the start in chunks and only the record's
  /// bytes are kept, unquoted, without the separator line. The caller checks the hash.
  public func spool(_ message: ArchivedMessage, directory: String) throws -> SpooledMessage {
    let location = message.location
    let path = try layout.dataPath(directory: location.directory, file: location.file)
    let spooler = try MessageSpooler(directory: directory)
    let reader = try ReadOnlyFile(path: path).gzipReader(from: location.memberOffset)
    let recordEnd = location.recordOffset + location.recordLength
    var position = 0  // in the member's decompressed bytes
    var separator: [UInt8]? = []  // the record's first line while it is read; nil after it
    var unquoter = MboxrdQuoter(unquoting: true)
    var unquoted: [UInt8] = []
    var kept = 0
    func keep(_ bytes: [UInt8]) throws {
      let count = min(bytes.count, message.size - kept)
      try bytes.withUnsafeBytes { try spooler.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
      kept += count
    }
    func unreadable(_ reason: String) -> ArchiveError {
      ArchiveError.unreadable(path: path, offset: location.memberOffset, reason: reason)
    }
    do {
      try reader.readAll(
        onData: { chunk in
          let start = max(location.recordOffset - position, 0)
          let end = min(recordEnd - position, chunk.count)
          position += chunk.count
          guard start < end else {
            if position >= recordEnd { throw EnoughRead() }
            return
          }
          var slice = UnsafeRawBufferPointer(rebasing: chunk[start..<end])
          if let seen = separator {
            let lineFeed = slice.firstIndex(of: 0x0A)
            let line = seen + slice[..<(lineFeed ?? slice.count)].prefix(max(5 - seen.count, 0))
            guard line.count < 5 || line.starts(with: Array("From ".utf8)) else {
              throw unreadable("no 'From ' line at byte \(location.recordOffset) of the member")
            }
            guard let lineFeed else {
              separator = line
              return
            }
            separator = nil
            slice = UnsafeRawBufferPointer(rebasing: slice[(lineFeed + 1)...])
          }
          unquoted.removeAll(keepingCapacity: true)
          unquoter.quote(slice, into: &unquoted)
          try keep(unquoted)
          if kept >= message.size { throw EnoughRead() }
        },
        onMemberEnd: { _ in throw EnoughRead() })
    } catch is EnoughRead {
    } catch let error as GzipError {
      throw unreadable("\(error)")
    }
    if kept < message.size {
      unquoted.removeAll()
      unquoter.finish(into: &unquoted)
      try keep(unquoted)
    }
    guard kept == message.size else {
      throw unreadable(
        position < recordEnd ? "the gzip member ends before the message does" : "the record is too short")
    }
    return spooler.finish()
  }
}

/// Stops a member's inflation once the wanted bytes were read.
private struct EnoughRead: Error {}

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
