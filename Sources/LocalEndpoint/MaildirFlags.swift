/// Flags in Maildir file names: `UNIQUE:2,INFO`, where INFO holds one letter per flag in
/// ASCII order. Upper-case letters are the system flags; Dovecot's lower-case letters a–z
/// are keywords, numbered 0–25 in the folder's `dovecot-keywords` file.
enum MaildirFlags {
  static let systemFlags: [(letter: Character, flag: String)] = [
    ("D", "\\Draft"), ("F", "\\Flagged"), ("P", "$Forwarded"), ("R", "\\Answered"), ("S", "\\Seen"),
    ("T", "\\Deleted"),
  ]

  /// The flags a folder keeps besides keywords.
  static let permanent = systemFlags.map(\.flag)

  /// The unique part of a file name (before the first `:`) and its info letters (after
  /// `:2,`; nil when the name has none).
  static func split(_ fileName: String) -> (base: String, info: Substring?) {
    guard let colon = fileName.firstIndex(of: ":") else { return (fileName, nil) }
    let suffix = fileName[fileName.index(after: colon)...]
    return (String(fileName[..<colon]), suffix.hasPrefix("2,") ? suffix.dropFirst(2) : nil)
  }

  /// The flags of a file's info letters.
  static func flags(info: Substring?, keywords: DovecotKeywords) -> [String] {
    guard let info else { return [] }
    var flags: [String] = []
    for letter in info {
      if let known = systemFlags.first(where: { $0.letter == letter }) {
        flags.append(known.flag)
      } else if let ascii = letter.asciiValue, ascii >= UInt8(ascii: "a"), ascii <= UInt8(ascii: "z"),
        let keyword = keywords.names[Int(ascii - UInt8(ascii: "a"))]
      {
        flags.append(keyword)
      }
    }
    return flags
  }

  /// The info letters for `flags`, sorted. Keywords get letters from `keywords`, which adds
  /// new ones to its file; a keyword that finds no free letter is handed to `dropped`.
  /// `\Recent` and unknown system flags are not stored.
  static func info(for flags: [String], keywords: inout DovecotKeywords, dropped: (String) -> Void) throws -> String {
    var letters: Set<Character> = []
    for flag in flags {
      if let known = systemFlags.first(where: { $0.flag.uppercased() == flag.uppercased() }) {
        letters.insert(known.letter)
      } else if !flag.hasPrefix("\\") {
        if let index = try keywords.index(assigning: flag) {
          letters.insert(Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(index))))
        } else {
          dropped(flag)
        }
      }
    }
    return String(letters.sorted())
  }

  /// The file name for `base` with these info letters.
  static func fileName(base: String, info: String) -> String { base + ":2," + info }
}

/// Dovecot's `dovecot-keywords` file in a Maildir folder: lines `N name`, where N (0–25)
/// is the keyword's letter a–z in file names. Lines that do not parse are ignored, as
/// Dovecot does.
struct DovecotKeywords {
  static let fileName = "dovecot-keywords"
  static let capacity = 26

  let path: String
  private(set) var names: [Int: String] = [:]

  /// Reads the file of the folder at `directory`, if there is one.
  init(directory: String) throws {
    path = LocalFiles.join(directory, Self.fileName)
    guard LocalFiles.exists(path) else { return }
    let text = String(decoding: try LocalFiles.readAll(path), as: UTF8.self)
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2, let index = Int(parts[0]), (0..<Self.capacity).contains(index) else { continue }
      names[index] = String(parts[1])
    }
  }

  var isFull: Bool { names.count >= Self.capacity }

  /// The index of a keyword (compared without case), or nil.
  func index(of keyword: String) -> Int? {
    names.first { $0.value.uppercased() == keyword.uppercased() }?.key
  }

  /// The index of a keyword, adding it to the file (written before any message uses its
  /// letter) when it is new; nil when all 26 letters are taken.
  mutating func index(assigning keyword: String) throws -> Int? {
    if let known = index(of: keyword) { return known }
    guard let free = (0..<Self.capacity).first(where: { names[$0] == nil }),
      !keyword.contains(where: { $0 == "\n" || $0 == "\r" })
    else { return nil }
    names[free] = keyword
    let text = names.keys.sorted().map { "\($0) \(names[$0]!)\n" }.joined()
    try LocalFiles.replaceFile(path, contents: Array(text.utf8))
    return free
  }
}
