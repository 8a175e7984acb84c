/// A folder as a source or sink lists it.
public struct FolderDescriptor: Sendable, Equatable {
  /// Decoded name, with the store's own separator.
  public var name: String
  public var separator: Character?
  /// RFC 6154 attribute (`\Sent`, …), if the store reports one.
  public var specialUse: String?
  public var selectable: Bool

  public init(name: String, separator: Character?, specialUse: String? = nil, selectable: Bool = true) {
    self.name = name
    self.separator = separator
    self.specialUse = specialUse
    self.selectable = selectable
  }

  /// The hierarchy levels of the name.
  public var components: [String] {
    guard let separator else { return [name] }
    return name.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
  }
}
