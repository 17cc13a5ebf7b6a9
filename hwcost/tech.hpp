#pragma once
// Technology tables: one JSON file per standard-cell library under hwcost/tech/. They hold the
// library's unit sizes and the model's coefficients (fitted by calibration); no number that
// depends on the library lives in code.
#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ffp8::hwcost {

/// The analytic model's coefficients, in gate equivalents (GE) per unit of their feature.
/// One closed table: coefficient_names() gives the JSON keys in this order.
enum class Coef : int {
  Intercept,     ///< GE per PE (clear/enable muxing, sign logic)
  DecoderBit,    ///< fixed decoder, per exponent bit + 1 of each operand
  FlexDecoder,   ///< run-time decoder, per (code bits x log2 code bits) of each operand
  MultCell,      ///< significand multiplier, per partial-product bit
  AdderBit,      ///< per bit of an exponent, float significand or integer adder
  KulischBit,    ///< per bit of a Kulisch accumulate adder
  ShiftCell,     ///< per (width x stage) of an alignment or normalisation shifter
  FrameBit,      ///< per bit of a float adder's frame (operand swap, sticky, abs, leading zeros)
  RegisterBit,   ///< per flip-flop
  Count
};
inline constexpr int kCoefCount = static_cast<int>(Coef::Count);
/// JSON key of each coefficient, indexed by Coef.
const std::array<std::string_view, kCoefCount>& coefficient_names();

/// One library's parameters and the model's coefficients for it.
struct Tech {
  std::string name;            ///< e.g. "osu018"
  std::string description;     ///< where the numbers come from
  std::string liberty;         ///< liberty file for synthesis ("" if none)
  std::string source;          ///< file the table was read from ("" if built in code)
  double ge_um2 = 0;           ///< area of one gate equivalent (the NAND2X1 cell), um^2
  double gate_delay_ns = 0;    ///< delay of one logic level (about a fan-out-of-4 NAND2), ns
  double energy_fj_per_ge = 0; ///< switching energy of one GE toggling once, fJ
  double activity = 0;         ///< mean toggles per GE of combinational logic per MAC
  double register_activity = 0;///< mean toggles per flip-flop GE per MAC (clock included)
  std::array<double, kCoefCount> coef{};  ///< GE per feature unit, indexed by Coef
  nlohmann::json calibration = nlohmann::json::object();  ///< provenance of the fit (free form)

  double operator[](Coef c) const { return coef[static_cast<int>(c)]; }
};

/// Reads a technology table; throws IoError if the file cannot be read and ConfigError for
/// malformed JSON, a missing, unknown or non-numeric key (the message names file and key).
Tech load_tech(const std::filesystem::path& file);
/// Parses an already-read JSON object; `source` names it in messages.
Tech tech_from_json(const nlohmann::json& j, std::string_view source);
/// The JSON form load_tech() reads back.
nlohmann::json to_json(const Tech& t);
/// Directory of the shipped tables (hwcost/tech in the source tree).
std::filesystem::path tech_dir();
/// Resolves a table by name ("osu018" -> tech_dir()/osu018.json) or as a path, then loads it.
Tech find_tech(std::string_view name_or_path);

}  // namespace ffp8::hwcost
