#pragma once
// Subcommand registry of the ffp8 CLI. Each cmd_*.cpp registers one command with
// FFP8_COMMAND; main() dispatches and maps exceptions to exit codes.
#include <functional>
#include <string>
#include <vector>

namespace ffp8::cli {

/// Thrown for usage errors (unknown option, missing argument): exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One subcommand: `run` gets the arguments after the subcommand name and returns the exit code.
struct Command {
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>& args)> run;
};

/// All registered commands, in registration order.
std::vector<Command>& commands();

/// Registers a command at static-initialisation time.
struct Registrar {
  explicit Registrar(Command c) { commands().push_back(std::move(c)); }
};

}  // namespace ffp8::cli

#define FFP8_CONCAT_INNER(a, b) a##b
#define FFP8_CONCAT(a, b) FFP8_CONCAT_INNER(a, b)
/// FFP8_COMMAND("name", "one-line summary", function): registers a subcommand.
#define FFP8_COMMAND(name, summary, fn) \
  static ::ffp8::cli::Registrar FFP8_CONCAT(ffp8_registrar_, __LINE__){::ffp8::cli::Command{name, summary, fn}}
