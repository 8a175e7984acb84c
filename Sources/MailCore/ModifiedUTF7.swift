/// Mailbox names as IMAP4rev1 sends them (RFC 3501 §5.1.3): printable ASCII stands for
/// itself except `&`, which is written `&-`; any other run of characters is written as
/// `&` + modified base64 of its UTF-16 + `-`, where modified base64 uses `,` for `/` and no
/// padding.
public enum ModifiedUTF7 {
  public struct DecodingError: UserFacingError, Equatable {
    public let name: String
    public init(name: String) { self.name = name }
    public var description: String { "mailbox name \"\(name)\" is not valid modified UTF-7" }
    public var hint: String? { "leave the folder out with --exclude, or rename it on the server" }
    public var scope: FailureScope { .folder }
    public var isTemporary: Bool { false }
  }

  private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)
  private static let values: [UInt8: UInt8] = Dictionary(
    uniqueKeysWithValues: alphabet.enumerated().map { ($0.element, UInt8($0.offset)) })

  /// Encodes a Unicode mailbox name.
  public static func encode(_ name: String) -> String {
    var output = ""
    var pending: [UInt16] = []
    func flush() {
      guard !pending.isEmpty else { return }
      output += "&" + base64(pending) + "-"
      pending.removeAll()
    }
    for scalar in name.unicodeScalars {
      if scalar.value >= 0x20 && scalar.value <= 0x7E {
        flush()
        output += scalar == "&" ? "&-" : String(scalar)
      } else {
        pending.append(contentsOf: String(scalar).utf16)
      }
    }
    flush()
    return output
  }

  /// Decodes a mailbox name received from the server. Rejects what RFC 3501 forbids:
  /// 8-bit bytes, unterminated or empty shifts, bad base64, a shift that encodes printable
  /// ASCII, and broken UTF-16.
  public static func decode(_ encoded: String) throws(DecodingError) -> String {
    let bytes = Array(encoded.utf8)
    var output = ""
    var index = 0
    while index < bytes.count {
      let byte = bytes[index]
      guard byte >= 0x20 && byte <= 0x7E else { throw DecodingError(name: encoded) }
      if byte != UInt8(ascii: "&") {
        output.unicodeScalars.append(UnicodeScalar(byte))
        index += 1
        continue
      }
      guard let end = bytes[(index + 1)...].firstIndex(of: UInt8(ascii: "-")) else {
        throw DecodingError(name: encoded)
      }
      if end == index + 1 {
        output += "&"
      } else {
        let units = try decodeBase64(bytes[(index + 1)..<end], name: encoded)
        guard !units.isEmpty, let text = String(validatingUTF16: units),
          !text.unicodeScalars.contains(where: { $0.value >= 0x20 && $0.value <= 0x7E })
        else { throw DecodingError(name: encoded) }
        output += text
      }
      index = end + 1
    }
    return output
  }

  private static func base64(_ units: [UInt16]) -> String {
    var bytes: [UInt8] = []
    for unit in units { bytes += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
    var output: [UInt8] = []
    var index = 0
    while index < bytes.count {
      let chunk = bytes[index..<min(index + 3, bytes.count)]
      let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
      let characters = [18, 12, 6, 0].prefix(chunk.count + 1)
      for shift in characters { output.append(alphabet[Int((value >> UInt32(shift)) & 0x3F)]) }
      index += 3
    }
    return String(decoding: output, as: UTF8.self)
  }

  private static func decodeBase64(_ text: ArraySlice<UInt8>, name: String) throws(DecodingError) -> [UInt16] {
    var bits: UInt32 = 0
    var bitCount = 0
    var bytes: [UInt8] = []
    for character in text {
      guard let value = values[character] else { throw DecodingError(name: name) }
      bits = (bits << 6) | UInt32(value)
      bitCount += 6
      if bitCount >= 8 {
        bitCount -= 8
        bytes.append(UInt8((bits >> UInt32(bitCount)) & 0xFF))
      }
    }
    // Leftover bits must be zero padding of fewer than 6 bits; bytes must pair into UTF-16.
    guard bitCount < 6, bits & ((1 << UInt32(bitCount)) - 1) == 0, bytes.count % 2 == 0 else {
      throw DecodingError(name: name)
    }
    return stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
  }
}

extension String {
  fileprivate init?(validatingUTF16 units: [UInt16]) {
    var result = ""
    var iterator = units.makeIterator()
    var decoder = UTF16()
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar): result.unicodeScalars.append(scalar)
      case .emptyInput:
        self = result
        return
      case .error: return nil
      }
    }
  }
}
