/// Message flags as MailFerry carries them between stores: IMAP's spelling (`\Seen`,
/// `\Flagged`, keywords as they are), compared without case and without `\Recent`, which
/// a server sets on its own.
public enum FlagSet {
  /// The flags to compare: lowercased, `\Recent` left out.
  public static func comparable(_ flags: [String]) -> Set<String> {
    Set(flags.map { $0.lowercased() }.filter { $0 != "\\recent" })
  }

  /// `\seen \flagged`, sorted; `(none)` when empty.
  public static func text(_ flags: Set<String>) -> String {
    flags.isEmpty ? "(none)" : flags.sorted().joined(separator: " ")
  }
}
