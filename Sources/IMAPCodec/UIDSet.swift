/// A set of UIDs or sequence numbers as IMAP writes it: `1:5,7,9:12`. Kept as sorted,
/// disjoint, non-adjacent closed ranges. `*` is not representable: callers use an upper bound.
public struct UIDSet: Equatable, Hashable, Sendable, CustomStringConvertible, Sequence {
  public private(set) var ranges: [ClosedRange<UInt32>] = []

  public init() {}

  public init<S: Sequence>(_ values: S) where S.Element == UInt32 {
    for value in values.sorted() { insert(value) }
  }

  public init(_ range: ClosedRange<UInt32>) { ranges = [range] }

  public var isEmpty: Bool { ranges.isEmpty }
  public var count: Int { ranges.reduce(0) { $0 + Int($1.upperBound - $1.lowerBound) + 1 } }
  public var min: UInt32? { ranges.first?.lowerBound }
  public var max: UInt32? { ranges.last?.upperBound }

  public mutating func insert(_ value: UInt32) { insert(value...value) }

  public mutating func insert(_ range: ClosedRange<UInt32>) {
    var merged = range
    var kept: [ClosedRange<UInt32>] = []
    for existing in ranges {
      // Overlapping or adjacent ranges merge (compared in 64 bits so UInt32.max cannot wrap).
      let adjacent =
        UInt64(existing.lowerBound) <= UInt64(merged.upperBound) + 1
        && UInt64(merged.lowerBound) <= UInt64(existing.upperBound) + 1
      if adjacent {
        merged = Swift.min(existing.lowerBound, merged.lowerBound)...Swift.max(existing.upperBound, merged.upperBound)
      } else {
        kept.append(existing)
      }
    }
    kept.append(merged)
    ranges = kept.sorted { $0.lowerBound < $1.lowerBound }
  }

  public func contains(_ value: UInt32) -> Bool { ranges.contains { $0.contains(value) } }

  public func makeIterator() -> FlattenSequence<[ClosedRange<UInt32>]>.Iterator { ranges.joined().makeIterator() }

  /// `1:5,7` form.
  public var description: String {
    ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound):\($0.upperBound)" }
      .joined(separator: ",")
  }

  /// Splits into sets of at most `size` values each, in order.
  public func chunked(maxCount size: Int) -> [UIDSet] {
    var result: [UIDSet] = []
    var current = UIDSet()
    var currentCount = 0
    for range in ranges {
      var low = range.lowerBound
      while true {
        let room = UInt32(size - currentCount)
        let high = range.upperBound - low >= room ? low + room - 1 : range.upperBound
        current.ranges.append(low...high)
        currentCount += Int(high - low) + 1
        if currentCount == size {
          result.append(current)
          current = UIDSet()
          currentCount = 0
        }
        if high == range.upperBound { break }
        low = high + 1
      }
    }
    if !current.isEmpty { result.append(current) }
    return result
  }

  /// Parses `1:5,7,9:12` (ranges may be written high:low). `*` is refused.
  public init?(parsing text: String) {
    guard !text.isEmpty else { return nil }
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      let bounds = part.split(separator: ":", omittingEmptySubsequences: false)
      guard bounds.count == 1 || bounds.count == 2 else { return nil }
      let numbers = bounds.compactMap { UInt32($0) }
      guard numbers.count == bounds.count else { return nil }
      insert(Swift.min(numbers[0], numbers.last!)...Swift.max(numbers[0], numbers.last!))
    }
  }
}
