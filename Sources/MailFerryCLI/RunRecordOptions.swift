/// The options of the commands that run a job which leave a record of the run for people
/// who were not watching: `--log FILE` and `--report FILE.html`.
enum RunRecordOptions {
  static let options: [CommandSpec.Option] = [
    .init(
      name: "log", valueName: "FILE",
      help: "Append every line the run prints to FILE, each with a UTC timestamp and a level."),
    .init(
      name: "report", valueName: "FILE.html",
      help: "Write the end-of-run report as one self-contained HTML file (folders, failures, throughput)."),
  ]
}
