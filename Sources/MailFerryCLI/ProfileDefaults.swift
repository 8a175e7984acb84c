import Engine
import Providers

/// What the sides' provider profiles change in a job: views not copied as folders, the
/// providers' special-use names, and the limits that become the job's defaults (the
/// target's largest message, connections per account, daily volumes).
enum ProfileDefaults {
  static func apply(
    source: Profile?, target: Profile?, to options: inout MigrationOptions, connectionsGiven: Bool,
    targetDelivers: Bool = false, deliverySessionsGiven: Bool = false, console: Console
  ) {
    if let source {
      options.naming.skip += source.folders.skip
      options.naming.sourceNames = source.specialUse
      if source.folders.labels { options.naming.sourceHasLabels = true }
      if !source.folders.skip.isEmpty {
        options.naming.skipReason =
          "\(source.name) shows it as a view of messages kept elsewhere (their flags carry it)"
      }
      if let bytes = source.limit(.downloadBytesPerDay) {
        options.dailyVolumeLimits.append(
          .init(direction: .download, limit: .init(value: UInt64(bytes), origin: origin(source, "download limit"))))
      }
    }
    if let target {
      options.naming.targetNames = target.specialUse
      if let bytes = target.limit(.messageBytes) {
        options.targetSizeLimit = .init(value: UInt64(bytes), origin: origin(target, "message size limit"))
      }
      if targetDelivers, options.throttling.maxRate == nil, let perMinute = target.limit(.messagesPerMinute) {
        // A sending limit: it applies to SMTP injection, not to storing into a mailbox.
        options.throttling.maxRate = RateLimit(amount: Double(perMinute) / 60, unit: .messages)
        console.status("sending at most \(perMinute) messages a minute: \(origin(target, "sending limit"))")
      }
      if let bytes = target.limit(.uploadBytesPerDay) {
        options.dailyVolumeLimits.append(
          .init(direction: .upload, limit: .init(value: UInt64(bytes), origin: origin(target, "upload limit"))))
      }
    }
    if targetDelivers, !deliverySessionsGiven, let target, let cap = target.limit(.connections),
      cap < options.deliverySessions
    {
      options.deliverySessions = max(1, Int(cap))
    }
    let caps = [source, target].compactMap { profile in
      profile.flatMap { profile in profile.limit(.connections).map { (profile, Int($0)) } }
    }
    guard let (profile, cap) = caps.min(by: { $0.1 < $1.1 }), cap < options.connections else { return }
    if connectionsGiven {
      console.warning(
        "--connections \(options.connections) is more than \(origin(profile, "connection limit")) of \(cap);"
          + " the server may refuse or throttle the extra sessions")
    } else {
      options.connections = max(1, cap)
    }
  }

  static func origin(_ profile: Profile, _ what: String) -> String {
    "\(profile.name)'s \(what) (profile \(profile.id))"
  }
}
