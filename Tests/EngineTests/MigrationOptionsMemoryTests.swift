import Engine
import Mailstore
import Testing

/// The job's batch byte budget is shared between its connections, and a message larger
/// than a connection's share (or the spool threshold) is spooled, so memory does not grow
/// with the number of connections.
@Suite struct MigrationOptionsMemoryTests {
  @Test func theBatchBudgetIsSharedBetweenConnections() {
    var options = MigrationOptions()
    #expect(options.batchBytes == 8 << 20)
    options.connections = 2
    #expect(options.batchBytesPerConnection == 4 << 20)
    #expect(options.spoolPolicy.threshold == 4 << 20)
    options.connections = 8
    #expect(options.batchBytesPerConnection == 1 << 20)
    #expect(options.spoolPolicy.threshold == 1 << 20)
    #expect(options.connections * options.batchBytesPerConnection <= options.batchBytes)
    options.connections = 32
    #expect(options.batchBytesPerConnection == 1 << 20, "never below 1 MiB")
  }

  @Test func theSpoolThresholdAndDirectoryCanBeSet() {
    var options = MigrationOptions()
    options.connections = 1
    options.spoolThreshold = 64 << 10
    options.spoolDirectory = "/var/tmp"
    #expect(options.spoolPolicy == SpoolPolicy(threshold: 64 << 10, directory: "/var/tmp"))
    #expect(options.spoolPolicy.spools(size: 64 << 10 + 1))
    #expect(!options.spoolPolicy.spools(size: 64 << 10))
    #expect(!SpoolPolicy.never.spools(size: .max))
  }
}
