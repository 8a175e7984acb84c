import IMAPCodec
import MailCore

/// What the engine needs to know about a message before moving it.
public struct MessageMetadata: Sendable, Equatable {
  public var uid: UInt32
  public var flags: [String]
  public var internalDate: ReceivedDate?
  public var size: UInt64
  public var modSeq: UInt64?
  /// The Message-ID header field as sent (unfolded, without the field name), if any.
  public var messageID: String?
  /// Gmail's labels for the message (X-GM-LABELS), when the server offers X-GM-EXT-1.
  public var labels: [String]?
  /// Gmail's id for the message, the same in every label folder (X-GM-MSGID).
  public var globalID: UInt64?
}

/// A whole message fetched into memory.
public struct FetchedMessage: Sendable, Equatable {
  public var uid: UInt32
  public var bytes: [UInt8]
}

extension IMAPClient {
  /// UID SEARCH, using ESEARCH when offered so large results come compressed as ranges.
  public func uidSearch(_ key: SearchKey) throws -> UIDSet {
    var result = UIDSet()
    let useESearch = has("ESEARCH")
    try run(.uidSearch(key, returnOptions: useESearch ? ["ALL"] : nil)) { data in
      switch data {
      case .search(let ids, _): for id in ids { result.insert(id) }
      case .esearch(let response): if let all = response.all { for range in all.ranges { result.insert(range) } }
      default: break
      }
    }
    return result
  }

  /// UID, FLAGS, INTERNALDATE, RFC822.SIZE, MODSEQ (when CONDSTORE) and the Message-ID of
  /// every message in `set`, sent as pipelined commands of at most `batchSize` UIDs each.
  /// `changedSince` limits the answer to messages whose flags changed (CONDSTORE).
  public func fetchMetadata(
    _ set: MessageSet, changedSince: UInt64? = nil, batchSize: Int = 1000
  ) throws
    -> [MessageMetadata]
  {
    var items = ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]
    let condstore = has("CONDSTORE")
    if condstore { items.append("MODSEQ") }
    let gmail = has("X-GM-EXT-1")
    if gmail { items += ["X-GM-MSGID", "X-GM-LABELS"] }
    let sets: [MessageSet]
    if case .uids(let uids) = set {
      sets = uids.chunked(maxCount: batchSize).map { .uids($0) }
    } else {
      sets = [set]
    }
    guard !sets.isEmpty else { return [] }
    var results: [MessageMetadata] = []
    // The header section arrives streamed, before its FETCH response completes. A server
    // could send gigabytes as "the Message-ID field": only the first 64 KiB are kept.
    var header: [UInt8] = []
    let keptHeaderBytes = 64 << 10
    let headers = BodyConsumer(
      begin: { _ in header = [] },
      bytes: {
        if header.count < keptHeaderBytes { header.append(contentsOf: $0.prefix(keptHeaderBytes - header.count)) }
      },
      end: {})
    let tags = try sets.map { try send(.uidFetch($0, items: items, changedSince: condstore ? changedSince : nil)) }
    for tag in tags {
      try waitFor(
        tag: tag, command: "UID FETCH",
        onData: { data in
          guard case .fetch(let fetch) = data, let uid = fetch.uid else { return }
          let headerBytes = fetch.body(section: "HEADER.FIELDS (MESSAGE-ID)") ?? header
          results.append(
            MessageMetadata(
              uid: uid, flags: fetch.flags ?? [], internalDate: fetch.internalDate, size: fetch.size ?? 0,
              modSeq: fetch.modSeq, messageID: MessageHeader.field("Message-ID", in: headerBytes),
              labels: gmail ? (fetch.gmailLabels ?? []).map { (try? ModifiedUTF7.decode($0)) ?? $0 } : nil,
              globalID: fetch.gmailMessageID))
          header = []
        }, onBody: headers)
    }
    return results
  }

  /// Streams the bytes of every message in `uids` with BODY.PEEK[] (never setting \Seen),
  /// pipelining one command per `batchSize` UIDs. `consumer` receives each message's
  /// begin/bytes/end; `BodyStreamStart.uid` is set when the server sends UID first (as
  /// Dovecot, Gmail and Exchange do); `onComplete` gets the UID when the FETCH ends.
  public func fetchBodies(
    _ uids: UIDSet, batchSize: Int = 500, consumer: BodyConsumer, onComplete: (UInt32) throws -> Void = { _ in }
  ) throws {
    let tags = try uids.chunked(maxCount: batchSize).map {
      try send(.uidFetch(.uids($0), items: ["UID", "BODY.PEEK[]"], changedSince: nil))
    }
    for tag in tags {
      try waitFor(
        tag: tag, command: "UID FETCH",
        onData: { data in
          if case .fetch(let fetch) = data, let uid = fetch.uid { try onComplete(uid) }
        }, onBody: consumer)
    }
  }

  /// Fetches whole messages into memory (for small sets and tests).
  public func fetchMessages(_ uids: UIDSet) throws -> [FetchedMessage] {
    var messages: [FetchedMessage] = []
    var current: [UInt8] = []
    try fetchBodies(
      uids,
      consumer: BodyConsumer(begin: { _ in current = [] }, bytes: { current.append(contentsOf: $0) }, end: {}),
      onComplete: { uid in messages.append(FetchedMessage(uid: uid, bytes: current)) })
    return messages
  }

  /// APPENDs `messages` with their flags and dates: one MULTIAPPEND when offered (all or
  /// nothing), else pipelined APPENDs (non-synchronising with LITERAL+). Returns the UIDs
  /// they got when the server reports APPENDUID, in order, else nil.
  @discardableResult
  public func append(
    _ messages: [MessageToStore], to mailbox: MailboxName, multiappend: Bool = true
  ) throws
    -> [UInt32]?
  {
    guard !messages.isEmpty else { return [] }
    if multiappend && messages.count > 1 && has("MULTIAPPEND") {
      let status = try run(.append(mailbox, messages: messages))
      return appendedUIDs(status, expected: messages.count)
    }
    if (has("LITERAL+") && useNonSynchronisingLiterals) || messages.count == 1 {
      let tags = try messages.map { try send(.append(mailbox, messages: [$0])) }
      var uids: [UInt32]? = []
      var firstError: Error?
      for tag in tags {
        do {
          let status = try waitFor(tag: tag, command: "APPEND to \(mailbox)")
          if let got = appendedUIDs(status, expected: 1) { uids?.append(contentsOf: got) } else { uids = nil }
        } catch let error as IMAPError {
          // Read every reply so the session stays in step, then report the first failure.
          if case .commandFailed = error { firstError = firstError ?? error } else { throw error }
          uids = nil
        }
      }
      if let firstError { throw firstError }
      return uids
    }
    var uids: [UInt32]? = []
    for message in messages {
      let status = try run(.append(mailbox, messages: [message]))
      if let got = appendedUIDs(status, expected: 1) { uids?.append(contentsOf: got) } else { uids = nil }
    }
    return uids
  }

  private func appendedUIDs(_ status: ResponseStatus, expected: Int) -> [UInt32]? {
    guard case .appendUID(_, let set)? = status.code, set.count == expected else { return nil }
    return Array(set)
  }

  /// UID STORE flags (silently).
  public func store(_ uids: UIDSet, _ mode: StoreMode, flags: [String]) throws {
    try run(.uidStore(uids, mode, flags: flags, silent: true))
  }

  /// Removes messages marked \Deleted: only `uids` with UIDPLUS, else all of them.
  public func expunge(_ uids: UIDSet? = nil) throws {
    if let uids, has("UIDPLUS") {
      try run(.uidExpunge(uids))
    } else {
      try run(.expunge)
    }
  }
}

/// The outcome of appending one message: the UID it got (when the server reports
/// APPENDUID), or the server's refusal.
public enum AppendOutcome: Sendable, Equatable {
  case appended(uid: UInt32?)
  case refused(ResponseStatus)
}

extension IMAPClient {
  /// APPENDs each message on its own (pipelined with LITERAL+), reading every reply, so a
  /// refused message is reported with the server's reason while the others go in.
  /// Connection failures still throw.
  public func appendEach(_ messages: [MessageToStore], to mailbox: MailboxName) throws -> [AppendOutcome] {
    let pipelined = has("LITERAL+") && useNonSynchronisingLiterals
    var outcomes: [AppendOutcome] = []
    func outcome(_ wait: () throws -> ResponseStatus) throws -> AppendOutcome {
      do {
        let status = try wait()
        if case .appendUID(_, let uids)? = status.code, uids.count == 1 { return .appended(uid: uids.min) }
        return .appended(uid: nil)
      } catch IMAPError.commandFailed(_, _, let status) {
        return .refused(status)
      }
    }
    if pipelined {
      let tags = try messages.map { try send(.append(mailbox, messages: [$0])) }
      for tag in tags { outcomes.append(try outcome { try waitFor(tag: tag, command: "APPEND to \(mailbox)") }) }
    } else {
      for message in messages {
        outcomes.append(
          try outcome {
            // A refusal before the literal (too large, no such folder) arrives from send.
            let tag = try send(.append(mailbox, messages: [message]))
            return try waitFor(tag: tag, command: "APPEND to \(mailbox)")
          })
      }
    }
    return outcomes
  }
}
