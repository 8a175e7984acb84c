import Foundation
import MailCore
import Storage

/// What `archive verify` found.
public struct ArchiveVerification: Sendable {
  public var folders = 0
  public var files = 0
  public var messages = 0
  public var blobs = 0
  public var bytes = 0
  /// Damage: each names the file and the byte offset of the member.
  public var problems: [String] = []
  /// Harmless findings (an uncommitted tail the next backup cuts off).
  public var notes: [String] = []

  public var isIntact: Bool { problems.isEmpty }
}

extension Archive {
  /// Decompresses every member the catalog points into and checks every stored message's
  /// SHA-256 and size against the catalog; checks the files' committed lengths and that every
  /// message row has its bytes somewhere. `progress` gets each file as it is checked.
  public func verify(progress: (String) -> Void = { _ in }) throws -> ArchiveVerification {
    var result = ArchiveVerification()
    for folder in try catalog.folders() {
      result.folders += 1
      result.messages += try catalog.count(folder: folder.id)
      for file in try catalog.files(folder: folder.id) {
        result.files += 1
        let path = try layout.dataPath(directory: folder.directory, file: file.name)
        progress(path)
        try checkLengths(folder: folder, file: file, into: &result)
        try checkMembers(folder: folder, file: file, path: path, into: &result)
      }
    }
    let orphans = try catalog.database.query(
      """
      SELECT f.name, m.uid FROM messages m JOIN folders f ON f.id = m.folder_id
      LEFT JOIN blobs b ON b.sha256 = m.sha256 WHERE b.sha256 IS NULL ORDER BY f.name, m.uid
      """
    ) { "\($0.text(0)) UID \($0.int64(1))" }
    for orphan in orphans { result.problems.append("catalog: \(orphan) has no stored bytes") }
    return result
  }

  private func checkLengths(folder: ArchiveFolder, file: CatalogFile, into result: inout ArchiveVerification) throws {
    let manifest = ArchiveLayout.manifestName(forDataFile: file.name)
    for (name, committed) in [(file.name, file.dataLength), (manifest, file.manifestLength)] {
      let path = try layout.dataPath(directory: folder.directory, file: name)
      guard let size = DurableFile.size(ofPath: path) else {
        result.problems.append("\(path): missing (the catalog has \(committed) committed bytes in it)")
        continue
      }
      if size < committed {
        result.problems.append("\(path): \(size) bytes, but \(committed) are committed: the end is lost")
      } else if size > committed {
        result.notes.append(
          "\(path): \(size - committed) bytes past the committed end (left by an interrupted run; "
            + "the next backup into this folder cuts them off)")
      }
    }
  }

  private func checkMembers(
    folder: ArchiveFolder, file: CatalogFile, path: String, into result: inout ArchiveVerification
  ) throws {
    let blobs = try catalog.database.query(
      """
      SELECT sha256, size, member_offset, record_offset, record_length FROM blobs WHERE file_id = ?
      ORDER BY member_offset, record_offset
      """, .integer(file.id)
    ) {
      (
        sha256: SHA256Digest(bytes: $0.blob(0)), size: $0.int(1),
        location: RecordLocation(
          directory: folder.directory, file: file.name, memberOffset: $0.int(2), recordOffset: $0.int(3),
          recordLength: $0.int(4))
      )
    }
    let members = Dictionary(grouping: blobs, by: { $0.location.memberOffset })
    for offset in members.keys.sorted() {
      let records = members[offset]!
      let plain: [UInt8]
      do {
        plain = try MemberReader.decompress(path: path, memberOffset: offset, upTo: .max)
      } catch {
        result.problems.append(
          "\(path): the gzip member at byte \(offset) is damaged (\(records.count) message(s) in it): "
            + "\(Self.reason(error))")
        continue
      }
      result.bytes += plain.count
      for record in records {
        result.blobs += 1
        do {
          let bytes = try Self.message(in: plain, location: record.location, size: record.size, path: path)
          if ContentHasher.hash(bytes) != record.sha256 {
            result.problems.append(
              "\(path): the message at byte \(record.location.recordOffset) of the member at byte \(offset) "
                + "does not match its SHA-256 \(record.sha256.hex.prefix(16))…")
          }
        } catch {
          result.problems.append("\(path): \(Self.reason(error))")
        }
      }
    }
  }

  static func reason(_ error: Error) -> String {
    if case ArchiveError.unreadable(_, _, let reason) = error { return reason }
    return "\(error)"
  }
}
