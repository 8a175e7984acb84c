import Foundation
import Testing
import Transport

@Suite struct ProtocolTraceFileTests {
  @Test func anExistingTraceOthersCouldReadIsMadePrivate() throws {
    let path = NSTemporaryDirectory() + "mailferry-trace-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: path) }
    _ = FileManager.default.createFile(atPath: path, contents: Data("old\n".utf8))
    chmod(path, 0o644)
    let trace = try ProtocolTrace(path: path)
    trace.addSecret("TopSecret")
    var info = stat()
    #expect(stat(path, &info) == 0)
    #expect(info.st_mode & 0o777 == 0o600)
  }
}
