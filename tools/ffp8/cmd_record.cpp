// ffp8 record MODEL DATA --count N --out ACTS.h5: the float32 inputs of a model's
// conv2d/linear/matmul nodes over the first N images of a data file, as an activations file.
// Thin: ffp8::record_activations (core/tensors/record) does the work; this file prints its summary.
#include <algorithm>
#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <iostream>

#include "core/tensors/record.hpp"
#include "tools/ffp8/args.hpp"
#include "tools/ffp8/command.hpp"
#include "tools/ffp8/progress.hpp"

namespace po = boost::program_options;

namespace {

int run_record(const std::vector<std::string>& args) {
  po::options_description opts(
      "ffp8 record MODEL.h5 DATA.h5 --count N --out ACTS.h5 [options]\n\n"
      "Runs the float32 network of MODEL.h5 over the first N images of DATA.h5 and writes the input of every\n"
      "conv2d, linear and matmul node (a matmul's second operand as <node>.other), the tensors FFP8 quantizes and\n"
      "the sweep's model inputs see, as /activations/<name> [N, ...] (docs/hdf5-layout.md, \"Activations file\").\n"
      "Streamed: memory follows --batch, not N. ACTS.h5 is written whole or not at all (its folder is created).\n"
      "Paths are relative to the working folder.\n\noptions");
  opts.add_options()("help,h", "show this help")                                                      //
      ("count,n", po::value<std::int64_t>(), "images from the start of DATA.h5 (required)")             //
      ("out,o", po::value<std::string>(), "output activations file (required)")                        //
      ("batch,b", po::value<std::int64_t>()->default_value(64), "images per engine run (peak memory)")  //
      ("tensors,t", po::value<std::vector<std::string>>()->composing(),
       "glob patterns of the tensors to keep, comma-separated or repeated (conv1,'layer*',attn_qk.other; default: all)")  //
      ("threads,j", po::value<int>()->default_value(0), "threads (0: OpenMP default); results do not depend on it")  //
      ("quiet,q", "no progress bar")                                                                     //
      ("json", "print the summary as one JSON object");
  const auto parsed = ffp8::cli::parse_args(args, opts, {"model", "data"});
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  ffp8::cli::require_positional(vm, "model", "MODEL.h5");
  ffp8::cli::require_positional(vm, "data", "DATA.h5");
  if (!vm.count("count")) throw ffp8::cli::UsageError("missing --count N");
  if (!vm.count("out")) throw ffp8::cli::UsageError("missing --out ACTS.h5");

  ffp8::RecordOptions o;
  o.count = vm["count"].as<std::int64_t>();
  o.batch = vm["batch"].as<std::int64_t>();
  o.threads = vm["threads"].as<int>();
  if (o.count < 1) throw ffp8::cli::UsageError(fmt::format("--count must be 1 or more, not {}", o.count));
  if (o.batch < 1) throw ffp8::cli::UsageError(fmt::format("--batch must be 1 or more, not {}", o.batch));
  if (o.threads < 0) throw ffp8::cli::UsageError(fmt::format("--threads must be 0 or more, not {}", o.threads));
  if (vm.count("tensors"))
    for (const std::string& list : vm["tensors"].as<std::vector<std::string>>())
      for (std::size_t at = 0; at <= list.size();) {
        const std::size_t end = std::min(list.find(',', at), list.size());
        if (end > at) o.tensors.push_back(list.substr(at, end - at));
        at = end + 1;
      }
  ffp8::cli::ProgressBar bar(ffp8::cli::show_progress(vm.count("quiet") > 0), "images");
  o.progress = [&](std::int64_t done, std::int64_t total) {
    bar("record", static_cast<double>(done), static_cast<double>(total));
  };

  const ffp8::RecordReport r = ffp8::record_activations(vm["model"].as<std::string>(), vm["data"].as<std::string>(),
                                                        vm["out"].as<std::string>(), o);
  if (vm.count("json")) {
    std::cout << ffp8::to_json(r).dump() << "\n";
    return 0;
  }
  fmt::print("recorded {} tensors over {} images of {} into {}\n", r.tensors.size(), r.count, r.data, r.out);
  return 0;
}

}  // namespace

FFP8_COMMAND("record", "record the float32 inputs of conv2d/linear/matmul nodes as an activations file", run_record);
