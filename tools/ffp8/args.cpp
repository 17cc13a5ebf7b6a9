#include "tools/ffp8/args.hpp"

#include <iostream>

namespace ffp8::cli {

namespace po = boost::program_options;

std::optional<po::variables_map> parse_args(const std::vector<std::string>& args, const po::options_description& opts,
                                            const std::vector<std::string>& positional) {
  po::options_description hidden;
  po::positional_options_description pos;
  for (const std::string& name : positional) {
    if (!opts.find_nothrow(name, false)) hidden.add_options()(name.c_str(), po::value<std::string>());
    pos.add(name.c_str(), 1);
  }
  po::options_description all;
  all.add(opts).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return std::nullopt;
  }
  return vm;
}

}  // namespace ffp8::cli
