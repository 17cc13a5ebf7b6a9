// ffp8: the command-line front end. Parses the subcommand, calls the library, and turns typed
// errors into one-sentence messages with exit codes (1: bad input, 2: usage).
#include <boost/program_options/errors.hpp>
#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "core/errors.hpp"
#include "tools/ffp8/command.hpp"

namespace ffp8::cli {
std::vector<Command>& commands() {
  static std::vector<Command> all;
  return all;
}
}  // namespace ffp8::cli

namespace {

void print_usage(std::FILE* to) {
  fmt::print(to, "usage: ffp8 <command> [options]   (ffp8 help <command> or ffp8 <command> --help for details)\n\ncommands:\n");
  for (const auto& c : ffp8::cli::commands()) fmt::print(to, "  {:<10} {}\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(stderr);
    return 2;
  }
  if (args[0] == "help" && args.size() > 1) args = {args[1], "--help"};  // ffp8 help CMD = ffp8 CMD --help
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(stdout);
    return 0;
  }
  if (args[0] == "--version") {
    fmt::print("ffp8 {}\n", FFP8_VERSION);
    return 0;
  }
  for (const auto& c : ffp8::cli::commands()) {
    if (c.name != args[0]) continue;
    try {
      return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const ffp8::cli::UsageError& e) {
      fmt::print(stderr, "ffp8 {}: {}\n", c.name, e.what());
      return 2;
    } catch (const boost::program_options::error& e) {
      fmt::print(stderr, "ffp8 {}: {} (see ffp8 {} --help)\n", c.name, e.what(), c.name);
      return 2;
    } catch (const ffp8::Error& e) {
      fmt::print(stderr, "ffp8 {}: error: {}\n", c.name, e.what());
      return 1;
    } catch (const std::exception& e) {
      fmt::print(stderr, "ffp8 {}: internal error: {}\n", c.name, e.what());
      return 3;
    }
  }
  fmt::print(stderr, "ffp8: unknown command '{}'\n", args[0]);
  print_usage(stderr);
  return 2;
}
