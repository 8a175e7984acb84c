import Foundation
import MailCore
import Mailstore
import Testing

@testable import LocalEndpoint

/// Folder levels longer than a file name may be: the sinks write a shortened, stable file
/// name and list the real folder name back; the sources read it under the real name.
@Suite struct LongNameStoreTests {
  /// 150 Cyrillic letters (300 bytes of UTF-8) in one level, and 300 ASCII bytes.
  static let folders = [
    String(String(repeating: "Входящие письма ", count: 10).prefix(150)),
    "Top/" + String(repeating: "x", count: 300),
  ]

  func expectShortFileNames(under root: String) throws {
    let enumerator = try #require(FileManager.default.enumerator(atPath: root))
    for case let path as String in enumerator {
      let name = (path as NSString).lastPathComponent
      #expect(name.utf8.count <= 255, "\(name)")
    }
  }

  @Test func mboxTreeKeepsLongNames() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("mbox")
    let sink = try MboxSink(path: root)
    for folder in Self.folders {
      _ = try #require(try sink.open(folder, forWriting: true))
      #expect(try sink.store(LocalSamples.appends).count == LocalSamples.appends.count)
      _ = try sink.open(folder, forWriting: true)  // a second run finds the same file
    }
    let expected = Set(Self.folders)
    #expect(Set(try sink.folders().filter(\.selectable).map(\.name)) == expected)
    #expect(Set(try MboxSource(path: root).folders().filter(\.selectable).map(\.name)) == expected)
    try expectShortFileNames(under: root)
  }

  @Test func emlTreeKeepsLongNames() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("eml")
    let sink = try EmlSink(directory: root)
    for folder in Self.folders {
      _ = try #require(try sink.open(folder, forWriting: true))
      #expect(try sink.store(LocalSamples.appends).count == LocalSamples.appends.count)
    }
    #expect(Set(try sink.folders().map(\.name)).isSuperset(of: Self.folders))
    try expectShortFileNames(under: root)
  }

  @Test func maildirKeepsLongNames() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let root = scratch.file("Maildir")
    let sink = try MaildirSink(root: root)
    let names = Self.folders.map { $0.replacingOccurrences(of: "/", with: ".") }
    for folder in names {
      _ = try #require(try sink.open(folder, forWriting: true))
      #expect(try sink.store(LocalSamples.appends).count == LocalSamples.appends.count)
    }
    #expect(Set(try sink.folders().map(\.name)) == Set(names))
    #expect(Set(try MaildirSource(root: root).folders().map(\.name)) == Set(names))
    try expectShortFileNames(under: root)
  }
}
