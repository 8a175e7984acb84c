/// Addresses as they go into `MAIL FROM:<…>` and `RCPT TO:<…>`. Whatever reaches the
/// envelope from a message header is untrusted: `Return-Path: <a@b> NOTIFY=NEVER` must not
/// add parameters, and a CR must not end the command.
public enum EnvelopeAddress {
  /// `local@domain` that `isSafe`.
  public static func isValid(_ text: String) -> Bool {
    let parts = text.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else { return false }
    return isSafe(text)
  }

  /// Nothing in it can change the command it is put into: no control character, space,
  /// `<`, `>` or other delimiter. (LMTP recipients may be bare local user names.)
  public static func isSafe(_ text: String) -> Bool {
    !text.isEmpty
      && text.unicodeScalars.allSatisfy { scalar in
        scalar.value > 0x20 && scalar.value != 0x7F && !(0x80...0x9F).contains(scalar.value)
          && !"<>()[]\\,;\"".unicodeScalars.contains(scalar)
      }
  }

  /// The envelope sender a `Return-Path` field names: the text between its first `<` and
  /// the next `>` (or the whole field, when it has no brackets), `""` for the null path
  /// `<>`. Nil when that is not a valid address: the caller decides what to send instead.
  public static func fromReturnPath(_ field: String) -> String? {
    let value = field.drop { $0 == " " || $0 == "\t" }
    let inner: Substring
    if let open = value.firstIndex(of: "<") {
      guard let close = value[open...].firstIndex(of: ">") else { return nil }
      // Anything after the closing bracket would become MAIL parameters.
      guard value[value.index(after: close)...].allSatisfy({ $0 == " " || $0 == "\t" }) else { return nil }
      inner = value[value.index(after: open)..<close]
    } else {
      inner = value[...]
    }
    let address = inner.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
    if address.isEmpty { return "" }
    return isValid(String(address)) ? String(address) : nil
  }
}
