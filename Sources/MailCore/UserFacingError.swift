/// An error a person can act on.
///
/// `description` is one line naming the thing and what failed, safe to print (never a
/// password, token or message data); `hint` says what to do about it. The CLI prints
/// them as `error: <description>` and `hint: <hint>`.
public protocol UserFacingError: Error, CustomStringConvertible {
  var hint: String? { get }
}

extension UserFacingError {
  public var hint: String? { nil }
}
