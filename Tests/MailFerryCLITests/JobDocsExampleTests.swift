import Foundation
import ServerFixtures
import Testing

@testable import MailFerryCLI

/// The job files and systemd units docs/job-files.md, docs/nightly-backup.md and the README show work
/// as written: every ```ini block passes `check`, and the units pass `systemd-analyze verify`.
@Suite struct JobDocsExampleTests {
  let directory: String
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  init() throws {
    directory = NSTemporaryDirectory() + "mailferry-jobdocs-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  func document(_ name: String) throws -> String {
    let path = name == "README.md" ? name : "docs/\(name)"
    return try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
  }

  /// The bodies of the fenced blocks that open with "```ini".
  static func iniBlocks(_ text: String) -> [String] {
    text.components(separatedBy: "```ini\n").dropFirst().compactMap { $0.components(separatedBy: "\n```").first }
  }

  /// The bodies of the blocks introduced by "`/etc/systemd/system/NAME`:", by NAME.
  static func units(_ text: String) -> [String: String] {
    var units: [String: String] = [:]
    for part in text.components(separatedBy: "`/etc/systemd/system/").dropFirst() {
      guard let name = part.components(separatedBy: "`").first,
        let body = part.components(separatedBy: "```\n").dropFirst().first?.components(separatedBy: "```").first
      else { continue }
      units[name] = body
    }
    return units
  }

  @Test func theDocumentedJobFilesPassCheck() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var checked = 0
    for name in ["job-files.md", "nightly-backup.md", "README.md"] {
      for (index, block) in Self.iniBlocks(try document(name)).enumerated() {
        // The password files the docs tell the reader to create, in a directory of the test's
        // own instead of /etc/mailferry; everything else exactly as written.
        let text = block.replacingOccurrences(of: "/etc/mailferry/", with: "\(directory)/etc/")
        try FileManager.default.createDirectory(atPath: "\(directory)/etc", withIntermediateDirectories: true)
        for line in text.split(separator: "\n") {
          guard let key = line.range(of: "password-file = ") else { continue }
          let path = String(line[key.upperBound...])
          try Data("secret\n".utf8).write(to: URL(fileURLWithPath: path))
          chmod(path, 0o600)
        }
        let path = "\(directory)/\(name)-\(index).conf"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let run = CapturedRun(["check", path])
        #expect(run.status == .success, "\(name), example \(index + 1): \(run.err)")
        #expect(!run.err.contains("error:"), "\(name), example \(index + 1): \(run.err)")
        #expect(run.out.contains("job(s) ready"), "\(name), example \(index + 1)")
        checked += 1
      }
    }
    #expect(checked >= 3, "the docs lost their example job files")
  }

  @Test func theDocumentedSystemdUnitsVerify() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let units = Self.units(try document("nightly-backup.md"))
    #expect(units.keys.sorted() == ["mailferry-backup.service", "mailferry-backup.timer"])
    let binary = root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    var paths: [String] = []
    for (name, body) in units {
      // The binary as built here, where the docs install it in /usr/local/bin.
      let path = "\(directory)/\(name)"
      try Data(body.replacingOccurrences(of: "/usr/local/bin/mailferry", with: binary).utf8)
        .write(to: URL(fileURLWithPath: path))
      paths.append(path)
    }
    let verified = try Subprocess.run(["systemd-analyze", "verify"] + paths.sorted(), check: false)
    #expect(verified.status == 0, "\(verified.stderr)")
    #expect(verified.stderr.isEmpty, "systemd-analyze warns: \(verified.stderr)")
  }
}
