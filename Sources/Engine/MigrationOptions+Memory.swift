import MailCore
import Mailstore

extension MigrationOptions {
  /// Each connection's share of the job's batch byte budget (at least 1 MiB, so a batch
  /// of ordinary messages is never cut short).
  public var batchBytesPerConnection: Int {
    max(batchBytes / max(connections, 1), 1 << 20)
  }

  /// Which bodies sources spool: those above `spoolThreshold` or above the connection's
  /// share of the batch budget, whichever is smaller.
  public var spoolPolicy: SpoolPolicy {
    SpoolPolicy(
      threshold: min(spoolThreshold, batchBytesPerConnection),
      directory: spoolDirectory ?? MessageSpooler.defaultDirectory)
  }
}
