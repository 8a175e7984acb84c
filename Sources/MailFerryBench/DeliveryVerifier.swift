import Foundation
import IMAPEndpoint
import MailCore
import ServerFixtures
import Transport

/// Checks messages delivered by LMTP against the maildrop they came from: the count and the
/// multiset of SHA-256 digests. Both sides are compared from the first header field after
/// the leading trace fields (Return-Path, Delivered-To, X-Original-To, Received): every hop
/// may add those on top (the LMTP server does, and fetchmail adds its own Received and
/// turns the Return-Path into the envelope sender), the rest must arrive unchanged.
struct DeliveryVerifier {
  private var originals: [SHA256Digest: Int] = [:]
  private var count = 0

  mutating func add(original bytes: [UInt8]) {
    originals[Self.digest(bytes), default: 0] += 1
    count += 1
  }

  private static let traceFields = ["return-path:", "delivered-to:", "x-original-to:", "received:"].map {
    Array($0.utf8)
  }

  /// The SHA-256 of `bytes` without its leading trace fields.
  static func digest(_ bytes: [UInt8]) -> SHA256Digest {
    var start = 0
    var skipping = false
    while start < bytes.count {
      let first = bytes[start]
      let continuation = first == UInt8(ascii: " ") || first == UInt8(ascii: "\t")
      if !continuation {
        skipping = traceFields.contains { name in
          bytes.count - start >= name.count
            && zip(bytes[start..<(start + name.count)], name).allSatisfy { lhs, rhs in
              (lhs >= 65 && lhs <= 90 ? lhs + 32 : lhs) == rhs
            }
        }
      }
      guard skipping, let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else { break }
      start = newline + 1
    }
    return SHA256Hasher.hash(bytes[start...])
  }

  /// `exact 5000/5000`, or how many are missing or changed, for `user`'s INBOX.
  func verify(server: DovecotServer, user: String, password: String) -> String {
    do {
      let account = IMAPAccount(
        host: server.host, port: server.imapsPort, user: user, security: .implicitTLS,
        tls: TLSOptions(caFile: server.caFile), compress: false)
      let snapshot = try AccountSnapshot.read(account, password: password, digest: Self.digest)
      var left = originals
      var unmatched = 0
      var delivered = 0
      for (fingerprint, copies) in snapshot.folders["INBOX"] ?? [:] {
        delivered += copies
        let known = min(copies, left[fingerprint.digest] ?? 0)
        left[fingerprint.digest] = (left[fingerprint.digest] ?? 0) - known
        unmatched += copies - known
      }
      let missing = left.values.reduce(0, +)
      if missing == 0 && unmatched == 0 { return "exact \(delivered)/\(count)" }
      return "\(max(missing, unmatched)) differ (\(delivered) delivered of \(count): "
        + "\(missing) originals not found, \(unmatched) deliveries changed or extra)"
    } catch {
      return "not verified: \(error)"
    }
  }
}
