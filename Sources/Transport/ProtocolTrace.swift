import Foundation

/// A protocol trace for debugging (`--trace FILE`), safe to attach to a bug report.
///
/// Callers pass what may be shown: commands carrying passwords or tokens are traced through
/// `redactedCommand`, literal and message bodies as `[N bytes]`. As a second guard, every
/// secret registered with `addSecret` is replaced by `<redacted>` wherever it would appear.
/// Thread-safe: several connections may share one trace file.
public final class ProtocolTrace: @unchecked Sendable {
  public enum Direction: String, Sendable {
    case sent = "C:"
    case received = "S:"
    case note = "--"
  }

  private let lock = NSLock()
  private let write: (String) -> Void
  private var secrets: [String] = []
  private let clock = ContinuousClock()
  private let start: ContinuousClock.Instant

  /// A trace appended to `path` (created 0600).
  public convenience init(path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw TransportError.network(peer: path, operation: "open trace file", reason: String(cString: strerror(errno)))
    }
    // An existing trace readable by others is made private before anything is added.
    var info = stat()
    if fstat(fd, &info) == 0, info.st_mode & 0o077 != 0, fchmod(fd, info.st_mode & 0o700) != 0 {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw TransportError.network(peer: path, operation: "make trace file private (chmod 600)", reason: reason)
    }
    let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    self.init { line in handle.write(Data(line.utf8)) }
  }

  /// A trace that hands each finished line (with its newline) to `write`.
  public init(write: @escaping (String) -> Void) {
    self.write = write
    start = clock.now
  }

  /// Makes sure `secret` (and its base64 form) never appears in the trace.
  public func addSecret(_ secret: String) {
    guard secret.count >= 3 else { return }
    lock.lock()
    defer { lock.unlock() }
    secrets.append(secret)
    secrets.append(Data(secret.utf8).base64EncodedString())
    // Longest first, so a payload that contains a shorter secret is hidden whole.
    secrets.sort { $0.count > $1.count }
  }

  /// Records one line. `connection` identifies the connection when several share a trace.
  public func record(_ direction: Direction, _ text: String, connection: String = "") {
    lock.lock()
    defer { lock.unlock() }
    var line = text
    for secret in secrets where line.contains(secret) {
      line = line.replacingOccurrences(of: secret, with: "<redacted>")
    }
    let elapsed = clock.now - start
    let millis = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
    let stamp = String(format: "%6d.%03d", millis / 1000, millis % 1000)
    let prefix = connection.isEmpty ? "" : "[\(connection)] "
    write("\(stamp) \(prefix)\(direction.rawValue) \(line)\n")
  }

  /// Renders protocol bytes for a trace line: printable ASCII kept, others escaped.
  public static func render<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var text = ""
    text.reserveCapacity(bytes.count)
    for byte in bytes {
      switch byte {
      case 0x0D: text += "\\r"
      case 0x0A: text += "\\n"
      case 0x20...0x7E: text.unicodeScalars.append(UnicodeScalar(byte))
      default: text += String(format: "\\x%02X", byte)
      }
    }
    return text
  }
}
