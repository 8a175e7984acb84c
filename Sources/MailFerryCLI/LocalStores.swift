import Endpoints
import Engine

/// Local Maildir, mbox and .eml stores as job endpoints. Each worker gets its own instance;
/// the constructors check the path once up front, so a wrong path fails before any work.
enum LocalStores {
  static func source(_ kind: JobEndpoint.LocalKind, path: String) throws -> Migration.ConnectSource {
    switch kind {
    case .maildir:
      _ = try MaildirSource(root: path)
      return { try MaildirSource(root: path) }
    case .mbox:
      _ = try MboxSource(path: path)
      return { try MboxSource(path: path) }
    case .eml:
      throw ConfigurationError(
        what: "eml:\(path)", problem: "can only be written to", fix: "read from maildir:PATH or mbox:PATH")
    }
  }

  static func sink(_ kind: JobEndpoint.LocalKind, path: String) throws -> Migration.ConnectSink {
    switch kind {
    case .maildir:
      _ = try MaildirSink(root: path)
      return { try MaildirSink(root: path, checkingLayout: false) }
    case .mbox:
      _ = try MboxSink(path: path)
      return { try MboxSink(path: path) }
    case .eml:
      _ = try EmlSink(directory: path)
      return { try EmlSink(directory: path) }
    }
  }
}
