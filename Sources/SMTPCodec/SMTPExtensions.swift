/// What an EHLO or LHLO reply offers (RFC 5321 §4.1.1.1): keyword (upper-cased) → arguments.
public struct SMTPExtensions: Equatable, Sendable {
  public var keywords: [String: [String]]

  public init(ehloReply: SMTPReply) {
    var keywords: [String: [String]] = [:]
    // The first line is the greeting; each further line is one extension.
    for line in ehloReply.lines.dropFirst() {
      let parts = line.split(separator: " ").map(String.init)
      guard let name = parts.first else { continue }
      keywords[name.uppercased()] = Array(parts.dropFirst())
    }
    self.keywords = keywords
  }

  public init(keywords: [String: [String]] = [:]) { self.keywords = keywords }

  public func has(_ keyword: String) -> Bool { keywords[keyword.uppercased()] != nil }

  /// SIZE's limit in bytes; nil when not offered or unlimited (`SIZE` or `SIZE 0`).
  public var sizeLimit: Int? {
    guard let value = keywords["SIZE"]?.first.flatMap(Int.init), value > 0 else { return nil }
    return value
  }

  public var authMechanisms: [String] { (keywords["AUTH"] ?? []).map { $0.uppercased() } }
}
