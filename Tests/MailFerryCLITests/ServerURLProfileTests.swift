import Testing

@testable import MailFerryCLI

/// Which provider profile a server URL's host picks.
@Suite struct ServerURLProfileTests {
  @Test func aProvidersHostPicksItsProfile() throws {
    #expect(try ServerURL("imaps://me@imap.gmail.com").profile?.id == "gmail")
  }

  /// Proton Mail Bridge listens on localhost:1143. Any other server on localhost (a private
  /// Dovecot or Cyrus, an SSH tunnel) is not the Bridge and must not get its folder names.
  @Test func localhostIsTheBridgeOnlyOnTheBridgesPort() throws {
    #expect(try ServerURL("imap://me@localhost:1143").profile?.id == "protonbridge")
    #expect(try ServerURL("imaps://me@localhost:40993").profile == nil)
    #expect(try ServerURL("imaps://me@localhost").profile == nil)
    #expect(try ServerURL("smtp://me@localhost:1025").profile?.id == "protonbridge")
    #expect(try ServerURL("smtp://me@localhost:2525").profile == nil)
  }
}
