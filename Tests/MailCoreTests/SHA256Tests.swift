import Foundation
import MailCore
import Testing

@Suite struct SHA256Tests {
  // FIPS 180-2 test vectors.
  @Test func knownVectors() {
    #expect(SHA256Hasher.hash([UInt8]()).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(
      SHA256Hasher.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256Hasher.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hex
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }

  @Test func streamingEqualsOneShot() {
    let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    var hasher = SHA256Hasher()
    var index = 0
    // Uneven chunk sizes on purpose.
    for size in [1, 63, 64, 65, 4095, 100_000] where index < million.count {
      hasher.update(million[index..<min(index + size, million.count)])
      index += size
    }
    hasher.update(million[index...])
    let digest = hasher.finalize()
    #expect(digest.hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    #expect(digest == SHA256Hasher.hash(million))
  }

  @Test func hexRoundTrip() throws {
    let digest = SHA256Hasher.hash(Array("abc".utf8))
    #expect(SHA256Digest(hex: digest.hex) == digest)
    #expect(SHA256Digest(hex: "zz") == nil)
    #expect(Hex.decode("0aFf") == [0x0a, 0xff])
    #expect(Hex.decode("abc") == nil)
  }
}

@Suite struct ContentHasherTests {
  @Test func lineEndingsDoNotChangeTheHash() {
    let crlf = Array("Subject: a\r\n\r\nbody\r\nlast\r\n".utf8)
    let lf = Array("Subject: a\n\nbody\nlast\n".utf8)
    let noFinalNewline = Array("Subject: a\r\n\r\nbody\r\nlast".utf8)
    let expected = SHA256Hasher.hash(crlf)
    #expect(ContentHasher.hash(crlf) == expected)
    #expect(ContentHasher.hash(lf) == expected)
    #expect(ContentHasher.hash(noFinalNewline) == expected)
  }

  @Test func differentContentDiffers() {
    #expect(ContentHasher.hash(Array("a\r\nb\r\n".utf8)) != ContentHasher.hash(Array("a\r\nc\r\n".utf8)))
    // A lone CR is content, not a line ending.
    #expect(ContentHasher.hash(Array("a\rb\r\n".utf8)) != ContentHasher.hash(Array("a\r\nb\r\n".utf8)))
  }

  @Test(arguments: ["From: x\r\nTo: y\r\n\r\nhello\r\n", "From: x\nTo: y\n\nhello\n", "a\r\rb\n\r\n\n"])
  func lineEndsSplitAcrossChunks(text: String) {
    let message = Array(text.utf8)
    let expected = SHA256Hasher.hash(
      Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8))
    for split in 0...message.count {
      var hasher = ContentHasher()
      hasher.update(message[..<split])
      hasher.update(message[split...])
      #expect(hasher.finalize() == expected, "split at \(split)")
    }
  }
}
