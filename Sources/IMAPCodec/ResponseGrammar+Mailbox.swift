import MailCore

/// Mailbox data (RFC 3501 §7.2, RFC 9051 §7.3): LIST, STATUS, NAMESPACE (RFC 2342) and ID
/// (RFC 2971).
extension ResponseGrammar {
  /// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
  ///                [SP mbox-list-extended]
  mutating func mailboxListing() throws -> MailboxListing {
    let attributes = try flagList()
    try space()
    var separator: Character?
    if peekIsNil() {
      index += 3
    } else {
      let raw = try quoted()
      guard raw.count == 1 else { throw malformed("hierarchy separator must be one character") }
      separator = Character(UnicodeScalar(raw[0]))
    }
    try space()
    let name = MailboxName(raw: try astring())
    var extended: [String] = []
    while peek() == UInt8(ascii: " ") {
      index += 1
      extended.append(try genericValue())
    }
    return MailboxListing(attributes: attributes, separator: separator, name: name, extendedItems: extended)
  }

  /// STATUS mailbox SP "(" [status-att-val *(SP status-att-val)] ")"
  mutating func mailboxStatus() throws -> UntaggedResponse {
    let name = MailboxName(raw: try astring())
    try space()
    try expect("(")
    var items: [String: UInt64] = [:]
    while peek() != UInt8(ascii: ")") {
      if !items.isEmpty { try space() }
      let item = try atom().uppercased()
      try space()
      items[item] = try number64()
    }
    index += 1
    // Some servers leave a space before the line end.
    skipSpaces()
    return .mailboxStatus(mailbox: name, items: items)
  }

  /// namespace-response = "NAMESPACE" SP namespace SP namespace SP namespace
  mutating func namespace() throws -> NamespaceResponse {
    var groups: [[NamespaceResponse.Namespace]] = []
    for position in 0..<3 {
      if position > 0 { try space() }
      if peekIsNil() {
        index += 3
        groups.append([])
        continue
      }
      try expect("(")
      var group: [NamespaceResponse.Namespace] = []
      while peek() == UInt8(ascii: "(") {
        index += 1
        let prefix = String(decoding: try string(), as: UTF8.self)
        try space()
        var separator: Character?
        if peekIsNil() {
          index += 3
        } else {
          let raw = try quoted()
          separator = raw.first.map { Character(UnicodeScalar($0)) }
        }
        // Namespace response extensions: skip.
        while peek() == UInt8(ascii: " ") {
          index += 1
          _ = try genericValue()
        }
        try expect(")")
        group.append(.init(prefix: prefix, separator: separator))
      }
      try expect(")")
      groups.append(group)
    }
    return NamespaceResponse(personal: groups[0], otherUsers: groups[1], shared: groups[2])
  }

  /// id-params-list = "(" *(string SP nstring) ")" / nil
  mutating func idParameters() throws -> [String: String] {
    if peekIsNil() {
      index += 3
      return [:]
    }
    try expect("(")
    var result: [String: String] = [:]
    while peek() != UInt8(ascii: ")") {
      if !result.isEmpty { try space() }
      let key = String(decoding: try string(), as: UTF8.self)
      try space()
      let value = try nstring()
      result[key] = value.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
    index += 1
    return result
  }
}
