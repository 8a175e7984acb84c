import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import Transport

/// The limit a migration is measured against: the same work and nothing else. Over
/// `connections` pairs of implicit-TLS sessions, each pair takes chunks of 500 UIDs of a
/// folder, fetches them with one `UID FETCH (UID FLAGS INTERNALDATE BODY.PEEK[])` and
/// hands MULTIAPPEND batches (≤ 50 messages or 4 MB, with flags and dates) to its own
/// appending thread, so fetching and appending overlap. No hashing, checkpoint or dedup.
final class MinimalCopier: @unchecked Sendable {
  private let source: BenchSource
  private let target: CopyTarget
  private let connections: Int
  private let lock = NSLock()
  private var chunks: [(folder: String, uids: UIDSet)] = []
  private var failure: Error?
  private var appended = 0
  private var targetSeparator: Character = "/"

  init(source: BenchSource, target: CopyTarget, connections: Int) {
    self.source = source
    self.target = target
    self.connections = connections
  }

  func run() throws -> RunFigures {
    let start = ContinuousClock.now
    do {
      let sourceClient = try connect(source.account, password: source.user.password)
      defer { sourceClient.logout() }
      let targetClient = try connect(targetAccount, password: target.user.password)
      defer { targetClient.logout() }
      targetSeparator = try targetClient.listFolders().first?.separator ?? "/"
      for folder in source.folders {
        if folder != "INBOX" { _ = try targetClient.create(targetName(folder), separator: targetSeparator) }
        _ = try sourceClient.select(MailboxName(folder), readOnly: true)
        for chunk in try sourceClient.uidSearch(.all).chunked(maxCount: 500) { chunks.append((folder, chunk)) }
      }
    }
    var threads: [Thread] = []
    for _ in 0..<connections {
      let batches = BatchQueue()
      threads.append(Thread { [self] in fetchChunks(into: batches) })
      threads.append(Thread { [self] in appendBatches(from: batches) })
    }
    for thread in threads { thread.start() }
    for thread in threads { while !thread.isFinished { usleep(5_000) } }
    if let failure { throw failure }
    return RunFigures(messages: appended, bytes: source.bytes, seconds: seconds(ContinuousClock.now - start))
  }

  private var targetAccount: IMAPAccount {
    IMAPAccount(
      host: target.server.host, port: target.port, user: target.user.name, security: .implicitTLS,
      tls: TLSOptions(caFile: target.server.caFile), compress: false)
  }

  private func connect(_ account: IMAPAccount, password: String) throws -> IMAPClient {
    let client = try IMAPClient.connect(account)
    try client.login(.password(password))
    return client
  }

  private func targetName(_ folder: String) -> MailboxName {
    MailboxName(folder.replacingOccurrences(of: "/", with: String(targetSeparator)))
  }

  private func nextChunk() -> (folder: String, uids: UIDSet)? {
    lock.lock()
    defer { lock.unlock() }
    return failure == nil && !chunks.isEmpty ? chunks.removeFirst() : nil
  }

  private func fail(_ error: Error) {
    lock.lock()
    failure = failure ?? error
    lock.unlock()
  }

  private func fetchChunks(into batches: BatchQueue) {
    defer { batches.finish() }
    do {
      let client = try connect(source.account, password: source.user.password)
      defer { client.logout() }
      var selected: String?
      while let chunk = nextChunk() {
        if selected != chunk.folder {
          _ = try client.select(MailboxName(chunk.folder), readOnly: true)
          selected = chunk.folder
        }
        let mailbox = targetName(chunk.folder)
        var batch: [MessageToStore] = []
        var batchBytes = 0
        var body: [UInt8] = []
        let tag = try client.send(
          .uidFetch(.uids(chunk.uids), items: ["UID", "FLAGS", "INTERNALDATE", "BODY.PEEK[]"], changedSince: nil))
        try client.waitFor(
          tag: tag, command: "UID FETCH",
          onData: { data in
            guard case .fetch(let fetch) = data, fetch.uid != nil else { return }
            let flags = (fetch.flags ?? []).filter { $0.caseInsensitiveCompare("\\Recent") != .orderedSame }
            batch.append(MessageToStore(bytes: body, flags: flags, receivedDate: fetch.internalDate))
            batchBytes += body.count
            body = []
            if batch.count == 50 || batchBytes >= 4 << 20 {
              batches.put((mailbox, batch))
              batch = []
              batchBytes = 0
            }
          },
          onBody: BodyConsumer(
            begin: { start in body.reserveCapacity(Int(start.size)) }, bytes: { body.append(contentsOf: $0) },
            end: {}))
        if !batch.isEmpty { batches.put((mailbox, batch)) }
      }
    } catch {
      fail(error)
    }
  }

  private func appendBatches(from batches: BatchQueue) {
    do {
      let client = try connect(targetAccount, password: target.user.password)
      defer { client.logout() }
      while let next = batches.take() {
        let (mailbox, batch) = next
        try client.append(batch, to: mailbox)
        lock.lock()
        appended += batch.count
        lock.unlock()
      }
    } catch {
      fail(error)
      while batches.take() != nil {}
    }
  }
}

/// Two batches in flight between a pair's fetching and appending threads.
private final class BatchQueue: @unchecked Sendable {
  private let condition = NSCondition()
  private var waiting: [(MailboxName, [MessageToStore])] = []
  private var finished = false

  func put(_ batch: (MailboxName, [MessageToStore])) {
    condition.lock()
    while waiting.count >= 2 { condition.wait() }
    waiting.append(batch)
    condition.broadcast()
    condition.unlock()
  }

  func finish() {
    condition.lock()
    finished = true
    condition.broadcast()
    condition.unlock()
  }

  func take() -> (MailboxName, [MessageToStore])? {
    condition.lock()
    defer { condition.unlock() }
    while waiting.isEmpty && !finished { condition.wait() }
    guard !waiting.isEmpty else { return nil }
    condition.broadcast()
    return waiting.removeFirst()
  }
}
