/// The bodies of POP3 replies that carry data: STAT, LIST and UIDL (RFC 1939 §5, §7) and
/// CAPA (RFC 2449 §5).
public enum POP3Listings {
  /// `+OK nn mm` of STAT: message count and total size.
  public static func stat(_ text: String) throws(POP3ParseError) -> (count: Int, size: Int) {
    let parts = text.split(separator: " ")
    guard parts.count >= 2, let count = Int(parts[0]), let size = Int(parts[1]), count >= 0, size >= 0 else {
      throw POP3ParseError.malformedCount(excerpt: POP3ParseError.excerpt(text))
    }
    return (count, size)
  }

  /// One line of a LIST listing: message number and size in octets.
  public static func scanListing(_ line: [UInt8]) throws(POP3ParseError) -> (number: Int, size: Int) {
    let text = String(decoding: line, as: UTF8.self)
    let parts = text.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.count >= 2, let number = Int(parts[0]), let size = Int(parts[1]), number > 0, size >= 0 else {
      throw POP3ParseError.malformedListing(excerpt: POP3ParseError.excerpt(text))
    }
    return (number, size)
  }

  /// One line of a UIDL listing: message number and unique id (1 to 70 characters in
  /// 0x21…0x7E; longer or odd ids are kept as given, servers vary).
  public static func uniqueIDListing(_ line: [UInt8]) throws(POP3ParseError) -> (number: Int, uid: String) {
    let text = String(decoding: line, as: UTF8.self)
    let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
    guard parts.count == 2, let number = Int(parts[0]), number > 0 else {
      throw POP3ParseError.malformedListing(excerpt: POP3ParseError.excerpt(text))
    }
    let uid = parts[1].trimmingCharacters(in: " \t")
    guard !uid.isEmpty else { throw POP3ParseError.malformedListing(excerpt: POP3ParseError.excerpt(text)) }
    return (number, uid)
  }

  /// CAPA lines: capability name (upper-cased) → its arguments.
  public static func capabilities(_ lines: [[UInt8]]) -> [String: [String]] {
    var result: [String: [String]] = [:]
    for line in lines {
      let parts = String(decoding: line, as: UTF8.self).split(separator: " ").map(String.init)
      guard let name = parts.first else { continue }
      result[name.uppercased()] = Array(parts.dropFirst())
    }
    return result
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in set: String) -> String {
    String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
  }
}
