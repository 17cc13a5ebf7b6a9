// ffp8 ops [--markdown]: the op list of the model-file layout this build reads (the table in
// core/infer that the reader, the engine and docs/ops.md share).
#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/infer/model.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"

namespace po = boost::program_options;

namespace {

int run_ops(const std::vector<std::string>& args) {
  po::options_description opts("ffp8 ops [--markdown]: the ops a model file may use (docs/ops.md)");
  opts.add_options()("help,h", "this help")("markdown", "the markdown table of docs/ops.md");
  const auto vm = ffp8::cli::parse_args(args, opts);
  if (!vm) return 0;
  if (vm->count("markdown")) {
    fmt::print("{}", ffp8::infer::op_table_markdown());
    return 0;
  }
  for (const auto& o : ffp8::infer::op_table())
    fmt::print("{:<20} layout {}  attrs [{}]  params [{}]\n", o.name, o.since, fmt::join(o.attrs, ", "),
               fmt::join(o.params, ", "));
  return 0;
}

}  // namespace

FFP8_COMMAND("ops", "the ops a model file may use (layout op table)", run_ops);
