import Providers

/// Which provider profile applies to a server: the one named by `--source-profile`,
/// `--target-profile` (or `--profile` for a one-store command), else the one the URL names
/// (`gmail:…`) or whose host it is (`imap.gmail.com`), else none.
enum ProfileChoice {
  static func resolve(
    _ url: ServerURL, side: String?, arguments: ParsedArguments, catalog: ProfileCatalog = .shared
  ) throws -> Profile? {
    let option = side.map { "\($0)-profile" } ?? "profile"
    guard let name = arguments.value(option) else { return url.profile }
    guard let profile = catalog[name] else {
      throw UnknownProfileError(name: name, known: catalog.sorted.map(\.id))
    }
    return profile
  }
}
