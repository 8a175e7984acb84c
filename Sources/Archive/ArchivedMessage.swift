import MailCore

/// Where an archived message came from: the account, folder and key the source gave it.
public struct ArchiveOrigin: Sendable, Equatable {
  public var account: String
  public var folder: String
  public var validity: UInt32
  public var uid: UInt32
  /// The source's own name for the message (a POP3 UIDL), when it has one.
  public var name: String?

  public init(account: String, folder: String, validity: UInt32, uid: UInt32, name: String? = nil) {
    self.account = account
    self.folder = folder
    self.validity = validity
    self.uid = uid
    self.name = name
  }
}

/// A message to add to an archive folder: its bytes in memory, or spooled (written into
/// its own gzip member from the file, in chunks).
public struct MessageToArchive: Sendable {
  public var body: MessageBody
  public var flags: [String]
  /// INTERNALDATE: seconds since 1970 and the zone it was given in.
  public var internalDate: Int64?
  public var zoneMinutes: Int
  public var origin: ArchiveOrigin?
  /// `body.contentHash`, when the caller has it already.
  public var knownHash: SHA256Digest?

  public init(
    body: MessageBody, flags: [String], internalDate: Int64?, zoneMinutes: Int = 0, origin: ArchiveOrigin?,
    knownHash: SHA256Digest? = nil
  ) {
    self.knownHash = knownHash
    self.body = body
    self.flags = flags
    self.internalDate = internalDate
    self.zoneMinutes = zoneMinutes
    self.origin = origin
  }

  public init(bytes: [UInt8], flags: [String], internalDate: Int64?, zoneMinutes: Int = 0, origin: ArchiveOrigin?) {
    self.init(
      body: .inMemory(bytes), flags: flags, internalDate: internalDate, zoneMinutes: zoneMinutes, origin: origin)
  }
}

/// Where a message's bytes are: a record inside one gzip member of a data file.
public struct RecordLocation: Sendable, Equatable, Hashable {
  /// The data file's name inside its folder directory, and the folder directory.
  public var directory: String
  public var file: String
  /// Offset of the gzip member in the compressed file.
  public var memberOffset: Int
  /// Offset of the record (its `From ` line) in the member's decompressed bytes, and the
  /// record's length there (separator line, quoted message, closing empty line).
  public var recordOffset: Int
  public var recordLength: Int
}

/// One message of an archive folder as the catalog has it.
public struct ArchivedMessage: Sendable, Equatable {
  public var folder: String
  public var uid: UInt32
  public var sha256: SHA256Digest
  public var size: Int
  public var messageID: String?
  public var subject: String?
  public var from: String?
  public var flags: [String]
  public var internalDate: Int64?
  public var zoneMinutes: Int
  public var origin: ArchiveOrigin?
  public var firstSeen: Int64
  public var lastSeen: Int64
  public var location: RecordLocation
}
