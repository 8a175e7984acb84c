import MailCore

/// One pass over an mbox file with `MboxStreamSplitter`: where each record starts and how
/// long it is, plus the little the engine lists before reading bodies (size, flags, date).
/// Memory holds these entries and the start of one message (its header), never a message.
struct MboxIndex {
  struct Entry {
    /// Where the record's `From ` line starts, and the bytes up to the next record.
    var offset: UInt64
    var length: UInt64
    /// The message's size once unquoted.
    var size: UInt64
    var flags: [String]
    var date: ReceivedDate?
  }

  /// What `build` learns of each message for `visit` (an mbox sink's inventory).
  struct Fingerprint {
    var sha256: SHA256Digest
    var messageID: MessageID?
  }

  /// The start of each message kept to read its header fields (flags, Message-ID).
  static let headerLimit = MessageSpooler.prefixLimit

  var entries: [Entry] = []
  /// Bytes read (the file's size when the pass ended).
  var length: UInt64 = 0
  /// Same while the file keeps its first record and is not replaced by another file: a hash
  /// of the file's inode and its first bytes (at most the first record's 4 KiB).
  var validity: UInt32 = 1

  /// Reads the whole file. A non-empty file must start with `From `. With `hashing`, each
  /// message is also hashed as it streams past and handed to `visit`.
  static func build(
    _ file: LocalFile, hashing: Bool = false, visit: (Fingerprint) throws -> Void = { _ in }
  ) throws -> MboxIndex {
    var index = MboxIndex()
    let start = try file.read(from: 0, count: 5)
    if !start.isEmpty && start != Array("From ".utf8) { throw LocalStoreError.notAnMbox(path: file.path) }
    var splitter = MboxStreamSplitter()
    var separator = ""
    var header: [UInt8] = []
    var size = 0
    var hasher: ContentHasher?
    func take(_ event: MboxStreamSplitter.Event) throws {
      switch event {
      case .start(let line, let offset):
        if !index.entries.isEmpty {
          let last = index.entries.count - 1
          index.entries[last].length = UInt64(offset) - index.entries[last].offset
        }
        index.entries.append(Entry(offset: UInt64(offset), length: 0, size: 0, flags: [], date: nil))
        separator = line
        header.removeAll(keepingCapacity: true)
        size = 0
        if hashing { hasher = ContentHasher() }
      case .body(let bytes):
        size += bytes.count
        if header.count < headerLimit { header.append(contentsOf: bytes.prefix(headerLimit - header.count)) }
        hasher?.update(bytes)
      case .end:
        let last = index.entries.count - 1
        index.entries[last].size = UInt64(size)
        index.entries[last].flags = flags(of: header)
        index.entries[last].date = date(separator: separator)
        if let done = hasher.take() {
          try visit(Fingerprint(sha256: done.finalize(), messageID: MessageID(message: header)))
        }
      }
    }
    var offset: UInt64 = 0
    while true {
      let chunk = try file.read(from: offset, count: 1 << 20)
      if chunk.isEmpty { break }
      try chunk.withUnsafeBytes { try splitter.feed($0, emit: take) }
      offset += UInt64(chunk.count)
    }
    try splitter.finish(emit: take)
    index.length = offset
    if let last = index.entries.indices.last {
      index.entries[last].length = offset - index.entries[last].offset
    }
    if let first = index.entries.first {
      var hasher = SHA256Hasher()
      hasher.update(Array(String(try file.inode()).utf8))
      hasher.update(try file.read(from: 0, count: Int(min(first.length, 4096))))
      let digest = hasher.finalize().bytes
      let value = digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
      index.validity = max(value, 1)
    }
    return index
  }

  // MARK: Flags

  /// Flags from the `Status` (R = \Seen; O, "old", is not a flag) and `X-Status` (A, F, T,
  /// D) fields mail programs write into mbox messages.
  static func flags(of message: [UInt8]) -> [String] {
    var flags: [String] = []
    if let status = MessageHeader.field("Status", in: message), status.contains("R") { flags.append("\\Seen") }
    if let extra = MessageHeader.field("X-Status", in: message) {
      for (letter, flag) in [("A", "\\Answered"), ("F", "\\Flagged"), ("T", "\\Draft"), ("D", "\\Deleted")]
      where extra.contains(letter) {
        flags.append(flag)
      }
    }
    return flags
  }

  // MARK: Separator date

  private static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
  private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

  /// The date of a separator line, `From SENDER Www Mmm dd hh:mm[:ss] [zone] yyyy [zone]`
  /// (asctime, UTC unless a numeric zone is given); nil when there is none to be read.
  static func date(separator: String) -> ReceivedDate? {
    let tokens = separator.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
    guard tokens.count >= 6 else { return nil }
    for start in 1..<(tokens.count - 4) where weekdays.contains(tokens[start]) {
      guard let month = months.firstIndex(of: tokens[start + 1]), let day = Int(tokens[start + 2]),
        (1...31).contains(day)
      else { continue }
      let time = tokens[start + 3].split(separator: ":").map { Int($0) }
      guard time.count == 2 || time.count == 3, !time.contains(nil) else { continue }
      let hour = time[0]!
      let minute = time[1]!
      let second = time.count == 3 ? time[2]! : 0
      guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { continue }
      var year: Int?
      var zoneMinutes = 0
      for token in tokens[(start + 4)...].prefix(2) {
        if token.count == 4, let value = Int(token), (1900...9999).contains(value) {
          year = value
        } else if token.count == 5, token.first == "+" || token.first == "-", let value = Int(token.dropFirst()) {
          let minutes = value / 100 * 60 + value % 100
          zoneMinutes = token.first == "-" ? -minutes : minutes
        }
      }
      guard let year else { continue }
      let days = CivilDate.days(year: year, month: month + 1, day: day)
      let local = days * 86400 + Int64(hour * 3600 + minute * 60 + second)
      return ReceivedDate(secondsSince1970: local - Int64(zoneMinutes * 60), zoneMinutes: zoneMinutes)
    }
    return nil
  }
}
