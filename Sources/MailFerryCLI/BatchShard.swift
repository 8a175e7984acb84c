/// `--shard I/N`: the share of a batch one machine (one task of a job array) runs. An
/// account belongs to shard `hash(id) mod N`, so shards are disjoint and together cover
/// every account, whatever order the lines are in and whichever machine asks. Indexes
/// count from 0, like Kubernetes' `JOB_COMPLETION_INDEX` and a Slurm `--array=0-(N-1)`.
struct BatchShard: Equatable, Sendable {
  let index: Int
  let count: Int

  static let all = BatchShard(index: 0, count: 1)

  init(index: Int, count: Int) {
    precondition(count > 0 && (0..<count).contains(index))
    self.index = index
    self.count = count
  }

  /// Parses `I/N` with 0 ≤ I < N.
  init(parsing text: String, command: String) throws(UsageError) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count > 0 else {
      throw UsageError(
        command: command, message: "option '--shard' takes I/N (shard I of N, counted from 0), not '\(text)'")
    }
    guard (0..<count).contains(index) else {
      throw UsageError(
        command: command,
        message: "option '--shard \(text)': I counts from 0 and must be below N (0 to \(count - 1))")
    }
    self.init(index: index, count: count)
  }

  func contains(_ id: String) -> Bool { Int(Self.stableHash(id) % UInt64(count)) == index }

  /// 64-bit FNV-1a of the UTF-8 bytes: the same on every machine and in every release,
  /// unlike Swift's `hashValue`, which is seeded per process.
  static func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
  }
}
