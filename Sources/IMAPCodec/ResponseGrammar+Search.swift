import MailCore

/// SEARCH and ESEARCH results (RFC 3501 §7.2.5, RFC 4731).
extension ResponseGrammar {
  /// "SEARCH" *(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]
  mutating func search() throws -> UntaggedResponse {
    var ids: [UInt32] = []
    var modSeq: UInt64?
    while peek() == UInt8(ascii: " ") {
      index += 1
      if peek() == UInt8(ascii: "(") {
        index += 1
        guard try atom().uppercased() == "MODSEQ" else { throw malformed("expected MODSEQ") }
        try space()
        modSeq = try number64()
        try expect(")")
      } else if let byte = peek(), isDigit(byte) {
        ids.append(try number32())
      } else {
        break  // a trailing space before CRLF
      }
    }
    return .search(ids: ids, modSeq: modSeq)
  }

  /// esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
  mutating func esearch() throws -> ESearchResponse {
    var result = ESearchResponse()
    while peek() == UInt8(ascii: " ") {
      index += 1
      if peek() == UInt8(ascii: "(") {
        index += 1
        guard try atom().uppercased() == "TAG" else { throw malformed("expected TAG") }
        try space()
        result.tag = String(decoding: try string(), as: UTF8.self)
        try expect(")")
        continue
      }
      let name = try atom().uppercased()
      if name == "UID" {
        result.uid = true
        continue
      }
      try space()
      switch name {
      case "ALL": result.all = try uidSet()
      case "MIN": result.min = try number32()
      case "MAX": result.max = try number32()
      case "COUNT": result.count = try number32()
      case "MODSEQ": result.modSeq = try number64()
      default: _ = try genericValue()
      }
    }
    return result
  }
}
