import Foundation

/// Shared pieces of the codec fuzzers: a seedable generator, the iteration count
/// (`MAILFERRY_FUZZ_ITERATIONS`, small by default so the suite stays quick;
/// `MAILFERRY_FUZZ_SEED` replays a run) and a byte mutator.
struct Fuzzing {
  let iterations: Int
  let seed: UInt64
  var random: SplitMix64

  init(defaultIterations: Int = 3000) {
    let environment = ProcessInfo.processInfo.environment
    iterations = environment["MAILFERRY_FUZZ_ITERATIONS"].flatMap(Int.init) ?? defaultIterations
    seed = environment["MAILFERRY_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x4D61_696C_4665_7272
    random = SplitMix64(seed: seed)
  }

  /// Prints how many inputs `test` ran and its seed, for the figures of a long run
  /// (`MAILFERRY_FUZZ_ITERATIONS=200000`).
  func report(_ test: String) {
    print("fuzz \(test): \(iterations) executions, seed \(seed)")
  }

  mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(max(bound, 1))) }

  /// A seed picked at random and mutated one to four times, or (one time in eight) random
  /// bytes.
  mutating func input(seeds: [[UInt8]], interesting: [[UInt8]]) -> [UInt8] {
    if below(8) == 0 { return (0..<below(64)).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
    var input = seeds[below(seeds.count)]
    for _ in 0...below(4) { mutate(&input, seeds: seeds, interesting: interesting) }
    return input
  }

  /// Flip a bit, insert an interesting token, delete, duplicate, splice with another seed,
  /// or overwrite a byte.
  mutating func mutate(_ input: inout [UInt8], seeds: [[UInt8]], interesting: [[UInt8]]) {
    guard !input.isEmpty else {
      input = interesting[below(interesting.count)]
      return
    }
    let position = below(input.count)
    switch below(6) {
    case 0: input[position] ^= UInt8(1 << below(8))
    case 1: input.insert(contentsOf: interesting[below(interesting.count)], at: position)
    case 2: input.removeSubrange(position..<min(input.count, position + 1 + below(8)))
    case 3:
      let end = min(input.count, position + 1 + below(16))
      input.insert(contentsOf: input[position..<end], at: position)
    case 4:
      let other = seeds[below(seeds.count)]
      input = Array(input[..<position]) + other[below(other.count)...]
    default: input[position] = UInt8(truncatingIfNeeded: random.next())
    }
  }

  /// `input` cut at random places into pieces of 1 to 16 bytes.
  mutating func pieces(_ input: [UInt8]) -> [[UInt8]] {
    var result: [[UInt8]] = []
    var start = 0
    while start < input.count {
      let end = min(input.count, start + 1 + below(16))
      result.append(Array(input[start..<end]))
      start = end
    }
    return result
  }
}

/// A small, fast, seedable generator, so a failing run can be replayed.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension Array where Element == UInt8 {
  init(_ text: String) { self = Array(text.utf8) }
}
