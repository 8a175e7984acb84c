/// Characters that make a terminal or a file system do something instead of showing
/// something: C0 controls, DEL, C1 controls (ESC starts a sequence that can rewrite the
/// screen, set the window title or, in some terminals, run commands) and the Unicode
/// bidirectional overrides that reorder what is shown. Folder names, server texts and
/// message headers are anyone's input and pass through here before they reach a person.
public enum ControlCharacters {
  public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: return true
    default: return false
    }
  }

  /// `text` with every control character but newline and tab written visibly: `\x1B`,
  /// `\u{202E}`.
  public static func escaped(_ text: String, keepingLineBreaks: Bool = true) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var result = ""
    for scalar in text.unicodeScalars {
      if keepingLineBreaks && (scalar == "\n" || scalar == "\t") {
        result.unicodeScalars.append(scalar)
      } else if isControl(scalar) {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        result += scalar.value <= 0xFF ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
      } else {
        result.unicodeScalars.append(scalar)
      }
    }
    return result
  }

  /// `text` for a file name: each control character as `%XX` (its UTF-8 bytes).
  public static func percentEncoded(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var result = ""
    for scalar in text.unicodeScalars {
      if isControl(scalar) {
        for byte in String(scalar).utf8 {
          let hex = String(byte, radix: 16, uppercase: true)
          result += "%" + (hex.count < 2 ? "0" + hex : hex)
        }
      } else {
        result.unicodeScalars.append(scalar)
      }
    }
    return result
  }
}
