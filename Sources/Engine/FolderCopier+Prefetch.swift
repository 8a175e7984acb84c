import Foundation
import MailCore
import Mailstore

extension FolderCopier {
  /// The bodies of one batch as the source gave them.
  struct FetchedBatch: Sendable {
    var bodies: [UInt32: MessageBody]
    var unreadable: [UInt32: String]
  }

  /// Cuts the folder's messages into batches of at most `batchCount` messages and the
  /// connection's share of the byte budget (a larger message is a batch of its own).
  func batches(of messages: [SourceMessage]) -> [[SourceMessage]] {
    var batches: [[SourceMessage]] = []
    var batch: [SourceMessage] = []
    var batchBytes = 0
    for message in messages {
      if !batch.isEmpty
        && (batch.count >= options.batchCount || batchBytes + Int(message.size) > options.batchBytesPerConnection)
      {
        batches.append(batch)
        batch = []
        batchBytes = 0
      }
      batch.append(message)
      batchBytes += Int(message.size)
    }
    if !batch.isEmpty { batches.append(batch) }
    return batches
  }

  /// Starts reading `batch` from the source on a thread of its own, after taking its share
  /// of the daily volume and of `--max-rate`: the source sends the next batch while the
  /// current one is being stored, so neither server waits on the other.
  func startFetch(_ batch: [SourceMessage]) -> PendingFetch {
    let request = FetchRequest(
      source: source, keys: batch.map(\.key), limits: MessageSizeLimits(batch, maxSize: options.maxSize),
      spooling: options.spoolPolicy, bytes: batch.reduce(0) { $0 + Int($1.size) },
      volume: options.dryRun ? nil : volume, rate: rate, shouldStop: shouldStop)
    return PendingFetch(request)
  }
}

/// What a fetch thread needs. `@unchecked Sendable`: the folder copier does not touch the
/// source while a fetch of it is pending (it waits for the fetch before using the source
/// again, and before returning), and the volume and rate limiter are locked inside.
struct FetchRequest: @unchecked Sendable {
  let source: any MessageSource
  let keys: [UInt32]
  let limits: MessageSizeLimits
  let spooling: SpoolPolicy
  let bytes: Int
  let volume: DailyVolume?
  let rate: RateLimiter?
  let shouldStop: () -> Bool

  func run() throws -> FolderCopier.FetchedBatch {
    try volume?.take(bytes)
    rate?.take(messages: keys.count, bytes: bytes, shouldStop: shouldStop)
    let (bodies, unreadable) = try source.fetchBodies(keys, within: limits, spooling: spooling)
    return FolderCopier.FetchedBatch(bodies: bodies, unreadable: unreadable)
  }
}

/// A batch being read from the source on a thread of its own (network reads never run on
/// the cooperative pool). `wait` hands over its bodies, or throws what the fetch threw.
final class PendingFetch: @unchecked Sendable {
  // @unchecked: `result` is written once by the fetch thread before it signals `done`, and
  // read only after waiting for `done`.
  private let done = DispatchSemaphore(value: 0)
  private var result: Result<FolderCopier.FetchedBatch, any Error>?
  private var waited = false

  init(_ request: FetchRequest) {
    let thread = Thread { [self] in
      result = Result { try request.run() }
      done.signal()
    }
    // As deep as the workers' own threads: the response parser runs here.
    thread.stackSize = 4 << 20
    thread.start()
  }

  /// The fetched batch, once the source has sent it all.
  func wait() throws -> FolderCopier.FetchedBatch {
    join()
    return try result!.get()
  }

  /// Waits for a fetch that is no longer wanted (the job stops, or a store failed), so the
  /// source is free again; its bodies are dropped and its spool files closed.
  func abandon() {
    join()
    result = nil
  }

  private func join() {
    guard !waited else { return }
    done.wait()
    waited = true
  }
}
