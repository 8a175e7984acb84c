import MailCore

/// Folder names that would make a file name longer than file systems allow (255 bytes per
/// component: 60 Cyrillic letters are 120 bytes as UTF-8 and 720 percent-encoded).
///
/// A level whose name passes `limit` bytes is written as its first characters, `~h` and 16
/// hex digits of the name's SHA-256: stable (the same name gives the same component on
/// every run) and unique. Its full name is kept beside it in a dot file,
/// `.COMPONENT.mailferry-name`, which listings skip and read back. Names that fit are
/// written as before, so existing folders keep their files.
enum LongNames {
  /// Leaves room for the sidecar's and the mbox journal's prefix and suffix.
  static let limit = 200
  static let sidecarSuffix = ".mailferry-name"
  private static let hashLength = 16

  /// One level as it should be written: one component of one file path.
  struct Level: Equatable {
    var name: String
    var component: String
  }

  /// `name` as one path component.
  static func component(_ name: String) -> String {
    guard name.utf8.count > limit else { return name }
    var prefix = ""
    for character in name {
      guard prefix.utf8.count + character.utf8.count <= limit - hashLength - 2 else { break }
      prefix.append(character)
    }
    return prefix + "~h" + SHA256Hasher.hash(Array(name.utf8)).hex.prefix(hashLength)
  }

  static func level(_ name: String) -> Level { Level(name: name, component: component(name)) }

  /// Whether `component` is a shortened name.
  static func isShortened(_ component: String) -> Bool {
    let tail = component.utf8.suffix(hashLength + 2)
    guard tail.count == hashLength + 2, tail.starts(with: "~h".utf8) else { return false }
    return tail.dropFirst(2).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
  }

  static func sidecarPath(of component: String, in directory: String) -> String {
    LocalFiles.join(directory, "." + component + sidecarSuffix)
  }

  /// Keeps the full name of a shortened level in `directory` (which must exist).
  static func record(_ level: Level, in directory: String) throws {
    guard level.component != level.name else { return }
    let path = sidecarPath(of: level.component, in: directory)
    if (try? LocalFiles.readAll(path)) == Array(level.name.utf8) { return }
    try LocalFiles.replaceFile(path, contents: Array(level.name.utf8))
  }

  /// The name an on-disk component in `directory` stands for: the recorded full name of a
  /// shortened one (when its hash matches), else the component itself.
  static func name(of component: String, in directory: String) -> String {
    guard isShortened(component), let bytes = try? LocalFiles.readAll(sidecarPath(of: component, in: directory)),
      let name = String(validating: bytes, as: UTF8.self), self.component(name) == component
    else { return component }
    return name
  }
}
