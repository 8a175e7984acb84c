import IMAPCodec
import MailCore
import Mailstore

/// A folder as listed, with its decoded name.
public struct IMAPFolder: Sendable, Equatable {
  public var listing: MailboxListing
  /// The name for people: modified UTF-7 decoded (or the raw name when it is not valid).
  public var displayName: String

  public var name: MailboxName { listing.name }
  public var separator: Character? { listing.separator }
  public var specialUse: String? { listing.specialUse }
  public var isSelectable: Bool { listing.isSelectable }
}

/// What SELECT or EXAMINE reported.
public struct SelectedMailbox: Sendable, Equatable {
  public var name: MailboxName
  public var uidValidity: UInt32?
  public var uidNext: UInt32?
  public var highestModSeq: UInt64?
  public var exists: UInt32 = 0
  public var flags: [String] = []
  public var permanentFlags: [String]?
  public var readOnly = false
  /// NOMODSEQ: the mailbox does not keep modification sequences.
  public var noModSeq = false

  /// Whether the server stores `keyword` (or any new keyword, `\*`) in this mailbox.
  public func accepts(keyword: String) -> Bool {
    guard let permanentFlags else { return true }
    return permanentFlags.contains("\\*") || permanentFlags.contains { $0.uppercased() == keyword.uppercased() }
  }
}

/// What QRESYNC reported while selecting a mailbox.
public struct MailboxChanges: Sendable, Equatable {
  public var selected: SelectedMailbox
  /// UIDs expunged since the given mod-sequence.
  public var vanished = UIDSet()
  /// Messages whose flags changed since then.
  public var changed: [FlagChange] = []
}

public struct FlagChange: Sendable, Equatable {
  public var uid: UInt32
  public var flags: [String]
  public var modSeq: UInt64?
}

extension IMAPClient {
  /// Every folder, with attributes, separator and special use (LIST "" "*", asking for
  /// SPECIAL-USE attributes where the server supports LIST-EXTENDED).
  public func listFolders() throws -> [IMAPFolder] {
    var folders: [IMAPFolder] = []
    let returnOptions = has("SPECIAL-USE") && has("LIST-EXTENDED") ? ["SPECIAL-USE"] : []
    try run(.list(reference: MailboxName(""), pattern: MailboxName("*"), returnOptions: returnOptions)) { data in
      if case .list(let listing) = data { folders.append(self.folder(listing)) }
    }
    // Older servers report special use only through XLIST or not at all: nothing to add here;
    // the engine falls back to well-known names.
    return folders
  }

  /// A wire name as people read it.
  func displayName(_ name: MailboxName) -> String {
    enabled.contains("UTF8=ACCEPT") ? name.wireName : ((try? ModifiedUTF7.decode(name.wireName)) ?? name.wireName)
  }

  func folder(_ listing: MailboxListing) -> IMAPFolder {
    let wire = listing.name.wireName
    let display =
      enabled.contains("UTF8=ACCEPT") ? wire : ((try? ModifiedUTF7.decode(wire)) ?? wire)
    return IMAPFolder(listing: listing, displayName: display)
  }

  /// The wire name for a folder given in Unicode.
  public func mailboxName(_ displayName: String) -> MailboxName {
    if displayName.uppercased() == "INBOX" { return MailboxName("INBOX") }
    return MailboxName(enabled.contains("UTF8=ACCEPT") ? displayName : ModifiedUTF7.encode(displayName))
  }

  /// STATUS items (MESSAGES, UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ, SIZE …) of a folder.
  public func status(_ mailbox: MailboxName, items: [String]) throws -> [String: UInt64] {
    var wanted = items
    if !has("STATUS=SIZE") { wanted.removeAll { $0 == "SIZE" } }
    if !has("CONDSTORE") { wanted.removeAll { $0 == "HIGHESTMODSEQ" } }
    var result: [String: UInt64] = [:]
    try run(.status(mailbox, items: wanted)) { data in
      if case .mailboxStatus(_, let values) = data { result.merge(values) { $1 } }
    }
    return result
  }

  /// SELECT (or EXAMINE when `readOnly`), with CONDSTORE when enabled or offered.
  @discardableResult
  public func select(_ mailbox: MailboxName, readOnly: Bool) throws -> SelectedMailbox {
    let condstore = has("CONDSTORE") && !enabled.contains("CONDSTORE") && !enabled.contains("QRESYNC")
    return try select(.select(mailbox, readOnly: readOnly, condstore: condstore), mailbox: mailbox, readOnly: readOnly)
      .selected
  }

  /// SELECT with QRESYNC (RFC 7162): besides the mailbox state, the UIDs expunged and the
  /// flags changed since `modSeq`. The server ignores the request when `uidValidity` no
  /// longer matches: check `selected.uidValidity`. Needs `enable(["QRESYNC"])` first.
  public func selectChanges(
    _ mailbox: MailboxName, readOnly: Bool, uidValidity: UInt32, modSeq: UInt64, knownUIDs: UIDSet? = nil
  ) throws -> MailboxChanges {
    guard enabled.contains("QRESYNC") else {
      throw IMAPError.missingCapability(peer: peer, capability: "QRESYNC", purpose: "incremental resynchronisation")
    }
    return try select(
      .selectQResync(mailbox, readOnly: readOnly, uidValidity: uidValidity, modSeq: modSeq, knownUIDs: knownUIDs),
      mailbox: mailbox, readOnly: readOnly)
  }

  private func select(_ command: Command, mailbox: MailboxName, readOnly: Bool) throws -> MailboxChanges {
    var changes = MailboxChanges(selected: SelectedMailbox(name: mailbox))
    let status = try run(command) { data in
      switch data {
      case .exists(let count): changes.selected.exists = count
      case .flags(let flags): changes.selected.flags = flags
      case .vanished(_, let uids): for range in uids.ranges { changes.vanished.insert(range) }
      case .fetch(let fetch):
        if let uid = fetch.uid {
          changes.changed.append(FlagChange(uid: uid, flags: fetch.flags ?? [], modSeq: fetch.modSeq))
        }
      case .status(let status):
        switch status.code {
        case .uidValidity(let value)?: changes.selected.uidValidity = value
        case .uidNext(let value)?: changes.selected.uidNext = value
        case .highestModSeq(let value)?: changes.selected.highestModSeq = value
        case .noModSeq?: changes.selected.noModSeq = true
        case .permanentFlags(let flags)?: changes.selected.permanentFlags = flags
        default: break
        }
      default: break
      }
    }
    changes.selected.readOnly = status.code == .readOnly || readOnly
    return changes
  }

  /// CREATE `mailbox` and any missing parents (split on `separator`), the last with
  /// `specialUse` where the server offers CREATE-SPECIAL-USE (and plainly if it refuses
  /// the attribute). An existing folder is not an error; a name the server refuses throws
  /// `FolderNameRefused`.
  /// Creates `mailbox` and any missing parents. Returns false when `specialUse` was asked
  /// for and the server did not take it (no CREATE-SPECIAL-USE, or it refused the use).
  @discardableResult
  public func create(_ mailbox: MailboxName, separator: Character?, specialUse: String? = nil) throws -> Bool {
    let existing = Set(try listFolders().map { $0.name.raw })
    var useTaken = specialUse == nil
    var path: [UInt8] = []
    let parts: [ArraySlice<UInt8>] =
      separator.flatMap { $0.asciiValue }.map { byte in
        mailbox.raw.split(separator: byte, omittingEmptySubsequences: false)
      } ?? [mailbox.raw[...]]
    for (index, part) in parts.enumerated() {
      if index > 0, let byte = separator?.asciiValue { path.append(byte) }
      path += part
      guard !existing.contains(path), !MailboxName(raw: path).isInbox else { continue }
      let use = index == parts.count - 1 && capabilities.contains("CREATE-SPECIAL-USE") ? specialUse : nil
      do {
        try run(.create(MailboxName(raw: path), specialUse: use))
        if use != nil { useTaken = true }
      } catch IMAPError.commandFailed(_, _, let status) where Self.saysAlreadyExists(status) {
        // Created meanwhile, by another connection of the job (parallel folders share parents).
        continue
      } catch IMAPError.commandFailed(_, _, let status) where use != nil && status.kind == .no {
        // A server may refuse the attribute (USEATTR) but take the name.
        do {
          try run(.create(MailboxName(raw: path)))
        } catch IMAPError.commandFailed(_, _, let status) where Self.refusesName(status) {
          throw FolderNameRefused(name: displayName(MailboxName(raw: path)), serverText: status.text)
        }
      } catch IMAPError.commandFailed(_, _, let status) where Self.refusesName(status) {
        throw FolderNameRefused(name: displayName(MailboxName(raw: path)), serverText: status.text)
      }
      if index == parts.count - 1, use == nil, let specialUse, capabilities.contains("METADATA") {
        // Without CREATE-SPECIAL-USE a server may still keep the use as metadata (RFC 6154
        // section 4); if it will not, the folder keeps its provider's name alone.
        do {
          try run(.setMetadata(MailboxName(raw: path), entry: "/private/specialuse", value: specialUse))
          useTaken = true
        } catch IMAPError.commandFailed {}
      }
    }
    return useTaken
  }

  /// Whether a NO to CREATE is about the name (as opposed to a quota, a folder limit or a
  /// server in trouble, which renaming would not help).
  static func refusesName(_ status: ResponseStatus) -> Bool {
    guard status.kind == .no else { return status.kind == .bad }
    if saysAlreadyExists(status) || saysOverQuota(status) { return false }
    switch status.code {
    case .overQuota?, .limit?: return false
    case .other(let name, _)? where ["UNAVAILABLE", "SERVERBUG", "INUSE", "NOPERM"].contains(name):
      return false
    default: return true
    }
  }

  /// Whether a NO to CREATE means the folder exists: `NO [ALREADYEXISTS]` (RFC 5530), or
  /// the same in words from a server without the code (Cyrus 3.6: `NO Mailbox already
  /// exists`).
  static func saysAlreadyExists(_ status: ResponseStatus) -> Bool {
    guard status.kind == .no else { return false }
    if case .other(let name, _)? = status.code { return name == "ALREADYEXISTS" }
    return status.code == nil && status.text.lowercased().contains("already exists")
  }

  /// Whether a NO means the account is over quota: `NO [OVERQUOTA]` (RFC 5530), or the
  /// same in words from a server without the code (Cyrus 3.6: `NO Over quota`).
  static func saysOverQuota(_ status: ResponseStatus) -> Bool {
    guard status.kind == .no else { return false }
    if status.code == .overQuota { return true }
    return status.code == nil && status.text.lowercased().contains("over quota")
  }

  public func subscribe(_ mailbox: MailboxName) throws { try run(.subscribe(mailbox)) }

  public func delete(_ mailbox: MailboxName) throws { try run(.delete(mailbox)) }
}

extension IMAPClient {
  /// The sum of RFC822.SIZE over a folder, for servers without STATUS=SIZE.
  public func totalSize(of mailbox: MailboxName) throws -> UInt64 {
    let selected = try select(mailbox, readOnly: true)
    guard selected.exists > 0 else { return 0 }
    var total: UInt64 = 0
    try run(.uidFetch(.from(1), items: ["RFC822.SIZE"], changedSince: nil)) { data in
      if case .fetch(let fetch) = data { total += fetch.size ?? 0 }
    }
    return total
  }
}
