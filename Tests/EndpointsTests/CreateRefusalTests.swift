import IMAPCodec
import Testing

@testable import IMAPEndpoint

/// How a NO to CREATE is read: a name the server will not take (so MailFerry renames the
/// folder), a folder that exists already (nothing to do), or a limit renaming cannot help.
/// The lines are servers' own.
@Suite struct CreateRefusalTests {
  /// The status of one tagged line, parsed by the codec as the client parses it.
  static func status(_ line: String) throws -> ResponseStatus {
    var parser = ResponseParser()
    let wire = Array((line + "\r\n").utf8)
    let step = try wire.withUnsafeBytes { try parser.parse($0) }
    guard case .response(.tagged(_, let status))? = step.event else {
      throw ParseFailure(line: line)
    }
    return status
  }

  struct ParseFailure: Error { let line: String }

  @Test(arguments: [
    // Cyrus 3.6 says it in words, without RFC 5530's code.
    ("a NO Mailbox already exists", true),
    ("a NO [ALREADYEXISTS] Mailbox already exists", true),
    ("a NO Invalid mailbox name", false),
    ("a NO [CANNOT] Character not allowed in mailbox name", false),
  ])
  func alreadyExistsIsNotARefusedName(line: String, exists: Bool) throws {
    let status = try Self.status(line)
    #expect(IMAPClient.saysAlreadyExists(status) == exists)
    #expect(IMAPClient.refusesName(status) == !exists)
  }

  @Test func limitsAreNotRefusedNames() throws {
    #expect(!IMAPClient.refusesName(try Self.status("a NO [OVERQUOTA] Over quota")))
    // Cyrus 3.6, over its folder-count or storage quota: no code.
    #expect(!IMAPClient.refusesName(try Self.status("a NO Over quota")))
    #expect(!IMAPClient.refusesName(try Self.status("a NO [LIMIT] Too many mailboxes")))
    // Cyrus's answer to a folder outside the user's namespace: the name is the problem.
    #expect(IMAPClient.refusesName(try Self.status("a NO Permission denied")))
  }

  /// An APPEND refused for quota, with or without the code, tells the user what to do.
  @Test(arguments: ["a NO [OVERQUOTA] Quota exceeded (mailbox for user is full)", "a NO Over quota"])
  func overQuotaAppendSaysWhatToDo(line: String) throws {
    let refusal = IMAPSink.refusal(try Self.status(line))
    #expect(refusal.hint == "the target mailbox is over quota: free space there and run again")
    #expect(!refusal.isTemporary)
  }

  @Test func otherAppendRefusalsHaveNoHint() throws {
    #expect(IMAPSink.refusal(try Self.status("a NO Message contains NUL characters")).hint == nil)
  }
}
