import MailCore

/// One line of a data file's manifest (docs/archive-format.md): a kind, then `key=value`
/// fields separated by tabs, values %-escaped. Later lines win over earlier ones (flags);
/// readers skip kinds they do not know.
public enum ManifestEntry: Sendable, Equatable {
  /// The first line: which folder the data file belongs to.
  case folder(name: String, validity: UInt32, specialUse: String?)
  /// A message whose bytes are a record in this data file.
  case stored(ManifestMessage, location: ManifestLocation)
  /// A message whose bytes are stored once elsewhere in the archive (same SHA-256).
  case copy(ManifestMessage)
  /// New flags for a message of this folder.
  case flags(uid: UInt32, flags: [String], at: Int64)
  /// The source still held these messages at this time (for "last seen").
  case present(account: String, folder: String, validity: UInt32, uids: [ClosedRange<UInt32>], at: Int64)

  public static let header = "mailferry-manifest"

  public var line: String {
    switch self {
    case .folder(let name, let validity, let specialUse):
      var fields = [("version", "\(ArchiveLayout.formatVersion)"), ("name", name), ("validity", "\(validity)")]
      if let specialUse { fields.append(("special_use", specialUse)) }
      return Self.render(Self.header, fields)
    case .stored(let message, let location):
      return Self.render(
        "stored",
        message.fields + [
          ("member", "\(location.memberOffset)"), ("offset", "\(location.recordOffset)"),
          ("length", "\(location.recordLength)"),
        ])
    case .copy(let message):
      return Self.render("copy", message.fields)
    case .flags(let uid, let flags, let at):
      return Self.render("flags", [("uid", "\(uid)"), ("flags", flags.joined(separator: " ")), ("at", "\(at)")])
    case .present(let account, let folder, let validity, let uids, let at):
      let set = uids.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound):\($0.upperBound)" }
      return Self.render(
        "present",
        [
          ("account", account), ("folder", folder), ("validity", "\(validity)"),
          ("uids", set.joined(separator: ",")), ("at", "\(at)"),
        ])
    }
  }

  /// Parses one line (without its line end). Nil for a kind this version does not know;
  /// throws for a known kind with missing or malformed fields.
  public static func parse(_ line: String) throws -> ManifestEntry? {
    let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
    guard let kind = parts.first else { return nil }
    var fields: [String: String] = [:]
    for part in parts.dropFirst() {
      // Split on the scalars: a value may start with a combining mark, which would join the
      // `=` into one Character.
      let scalars = part.unicodeScalars
      guard let equals = scalars.firstIndex(of: "="),
        let value = PercentEncoding.decode(String(scalars[scalars.index(after: equals)...]))
      else { throw ManifestError.malformed(line: line) }
      fields[String(scalars[..<equals])] = value
    }
    var reader = FieldReader(fields: fields, line: line)
    switch kind {
    case Substring(header):
      return .folder(
        name: try reader.text("name"), validity: try reader.number("validity"), specialUse: fields["special_use"])
    case "stored":
      let location = ManifestLocation(
        memberOffset: try reader.number("member"), recordOffset: try reader.number("offset"),
        recordLength: try reader.number("length"))
      return .stored(try ManifestMessage(&reader), location: location)
    case "copy":
      return .copy(try ManifestMessage(&reader))
    case "flags":
      return .flags(uid: try reader.number("uid"), flags: reader.list("flags"), at: try reader.number("at"))
    case "present":
      var ranges: [ClosedRange<UInt32>] = []
      for item in try reader.text("uids").split(separator: ",") {
        let bounds = item.split(separator: ":").compactMap { UInt32($0) }
        guard bounds.count == (item.contains(":") ? 2 : 1), bounds[0] <= bounds.last! else {
          throw ManifestError.malformed(line: line)
        }
        ranges.append(bounds[0]...bounds.last!)
      }
      return .present(
        account: try reader.text("account"), folder: try reader.text("folder"), validity: try reader.number("validity"),
        uids: ranges, at: try reader.number("at"))
    default:
      return nil
    }
  }

  static func render(_ kind: String, _ fields: [(String, String)]) -> String {
    ([kind] + fields.map { "\($0.0)=\(PercentEncoding.encode($0.1))" }).joined(separator: "\t")
  }

  /// Compresses sorted UIDs into ranges.
  public static func ranges(_ uids: [UInt32]) -> [ClosedRange<UInt32>] {
    var ranges: [ClosedRange<UInt32>] = []
    for uid in uids.sorted() {
      if let last = ranges.last, uid == last.upperBound &+ 1 {
        ranges[ranges.count - 1] = last.lowerBound...uid
      } else if ranges.last?.contains(uid) != true {
        ranges.append(uid...uid)
      }
    }
    return ranges
  }
}

/// A manifest line that cannot be read.
public enum ManifestError: UserFacingError, Equatable {
  case malformed(line: String)

  public var description: String {
    switch self {
    case .malformed(let line): return "malformed manifest line: \(line.prefix(200))"
    }
  }

  public var hint: String? { "rebuild the catalog with 'mailferry archive reindex DIR'" }
  public var scope: FailureScope { .folder }
  public var isTemporary: Bool { false }
  public var kind: FailureKind { .inputData }
}

/// A message's catalog fields as a manifest line carries them.
public struct ManifestMessage: Sendable, Equatable {
  public var uid: UInt32
  public var sha256: SHA256Digest
  public var size: Int
  public var flags: [String]
  public var internalDate: Int64?
  public var zoneMinutes: Int
  public var firstSeen: Int64
  public var origin: ArchiveOrigin?

  public init(
    uid: UInt32, sha256: SHA256Digest, size: Int, flags: [String], internalDate: Int64?, zoneMinutes: Int,
    firstSeen: Int64, origin: ArchiveOrigin?
  ) {
    self.uid = uid
    self.sha256 = sha256
    self.size = size
    self.flags = flags
    self.internalDate = internalDate
    self.zoneMinutes = zoneMinutes
    self.firstSeen = firstSeen
    self.origin = origin
  }

  var fields: [(String, String)] {
    var fields = [
      ("uid", "\(uid)"), ("sha256", sha256.hex), ("size", "\(size)"), ("flags", flags.joined(separator: " ")),
    ]
    if let internalDate { fields += [("date", "\(internalDate)"), ("zone", "\(zoneMinutes)")] }
    fields.append(("seen", "\(firstSeen)"))
    if let origin {
      fields += [
        ("account", origin.account), ("folder", origin.folder), ("validity", "\(origin.validity)"),
        ("source_uid", "\(origin.uid)"),
      ]
      if let name = origin.name { fields.append(("source_name", name)) }
    }
    return fields
  }

  init(_ reader: inout FieldReader) throws {
    uid = try reader.number("uid")
    guard let digest = SHA256Digest(hex: try reader.text("sha256")) else {
      throw ManifestError.malformed(line: reader.line)
    }
    sha256 = digest
    size = try reader.number("size")
    flags = reader.list("flags")
    internalDate = try reader.optionalNumber("date")
    // A zone means nothing without a date (and is not written back without one).
    zoneMinutes = internalDate == nil ? 0 : try reader.optionalNumber("zone") ?? 0
    firstSeen = try reader.number("seen")
    if reader.fields["account"] != nil {
      origin = ArchiveOrigin(
        account: try reader.text("account"), folder: try reader.text("folder"), validity: try reader.number("validity"),
        uid: try reader.number("source_uid"), name: reader.fields["source_name"])
    }
  }
}

/// Where a stored record is in its data file.
public struct ManifestLocation: Sendable, Equatable {
  public var memberOffset: Int
  public var recordOffset: Int
  public var recordLength: Int

  public init(memberOffset: Int, recordOffset: Int, recordLength: Int) {
    self.memberOffset = memberOffset
    self.recordOffset = recordOffset
    self.recordLength = recordLength
  }
}

struct FieldReader {
  let fields: [String: String]
  let line: String

  func text(_ key: String) throws -> String {
    guard let value = fields[key] else { throw ManifestError.malformed(line: line) }
    return value
  }

  func number<T: FixedWidthInteger>(_ key: String) throws -> T {
    guard let value = T(try text(key)) else { throw ManifestError.malformed(line: line) }
    return value
  }

  func optionalNumber<T: FixedWidthInteger>(_ key: String) throws -> T? {
    guard fields[key] != nil else { return nil }
    return try number(key) as T
  }

  func list(_ key: String) -> [String] {
    (fields[key] ?? "").split(separator: " ").map(String.init)
  }
}
