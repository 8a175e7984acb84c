import Endpoints
import Engine

/// Local Maildir, mbox and .eml stores as job endpoints.
enum LocalStores {
  static func source(_ kind: JobEndpoint.LocalKind, path: String) throws -> Migration.ConnectSource {
    throw ConfigurationError(
      what: "\(kind.rawValue):\(path)", problem: "cannot be read yet", fix: "read from a server or an archive")
  }

  static func sink(_ kind: JobEndpoint.LocalKind, path: String) throws -> Migration.ConnectSink {
    throw ConfigurationError(
      what: "\(kind.rawValue):\(path)", problem: "cannot be written yet", fix: "write to a server or an archive")
  }
}
