import COpenSSL

/// MD5 through OpenSSL, only for APOP (RFC 1939 §7), whose digest the protocol fixes.
public enum MD5 {
  /// Lower-case hex digest of `bytes`.
  public static func hex(_ bytes: [UInt8]) -> String {
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
    defer { EVP_MD_CTX_free(context) }
    let done = bytes.withUnsafeBytes { raw in
      EVP_DigestInit_ex(context, EVP_md5(), nil) == 1 && EVP_DigestUpdate(context, raw.baseAddress, raw.count) == 1
        && EVP_DigestFinal_ex(context, &digest, &length) == 1
    }
    guard done else { fatalError("MD5 is not available in this OpenSSL") }
    let hexDigits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for byte in digest.prefix(Int(length)) {
      text.append(hexDigits[Int(byte >> 4)])
      text.append(hexDigits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
  }
}
