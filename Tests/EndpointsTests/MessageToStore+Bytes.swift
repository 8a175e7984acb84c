import MailCore

extension MessageToStore {
  /// The sample's bytes (test messages are small and held in memory).
  var bytes: [UInt8] {
    guard case .inMemory(let bytes) = body else { fatalError("test samples are held in memory") }
    return bytes
  }
}
