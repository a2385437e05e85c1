// clgauge db: show, merge and export tuning databases (docs/database.md).

#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "clgauge/error.hpp"
#include "clgauge/tuning_db.hpp"
#include "cli/command.hpp"

using json = nlohmann::ordered_json;

namespace clgauge::cli {
namespace {

struct ShowFlags {
  std::string device;
  std::string file;
  bool json = false;
};

struct MergeFlags {
  std::string out;
  std::vector<std::string> inputs;
};

struct ExportFlags {
  std::string format = "json";
  std::string file;
  std::string store;
  std::string device;
  std::string out;
};

// Reading an input the user named, or writing the file they asked for, is their input:
// a failure is a bad-input error (exit 2) that names the flag.
template <typename F>
auto as_input(const std::string& flag, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    if (e.code() != ReasonCode::io_error) throw;
    throw Error(ReasonCode::bad_input, flag + " " + e.what());
  }
}

TuningDeviceId device_id(const std::string& spec) {
  return tuning_device_id(select_device(spec, list_devices()));
}

std::string params_text(const GemmConfig& c) {
  std::string s;
  for (const auto& [name, value] : c.params) {
    s += (s.empty() ? "" : " ") + name + "=" + std::to_string(value);
  }
  return s;
}

std::string fixed_text(double v, int digits) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << v;
  return s.str();
}

void print_entries(std::ostream& out, const TuningDatabase& db) {
  for (const auto& e : db.entries) {
    out << "    " << e.key.str() << "  " << e.config.family << " " << e.config.id() << "  "
        << fixed_text(e.gflops_median, 1) << " GFLOP/s  " << e.decision << "  " << e.date << "\n"
        << "      " << params_text(e.config);
    for (std::size_t i = 0; i < e.baseline_ratios.size(); ++i) {
      const auto& [name, ratio] = e.baseline_ratios[i];
      out << (i == 0 ? "  " : ", ") << fixed_text(ratio, 2) << "x " << name;
    }
    out << "\n";
  }
}

json device_json(const TuningDeviceId& d) {
  return {{"platform", d.platform}, {"device", d.device}, {"driver", d.driver}};
}

std::string device_line(const TuningDeviceId& d) {
  return d.platform + " / " + d.device + " (driver " + d.driver + ")";
}

std::string count_text(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " entry" : " entries");
}

int run_show(const ShowFlags& f, Streams s) {
  struct Shown {
    std::filesystem::path file;
    std::string origin;
    std::optional<TuningDatabase> db;
  };
  std::vector<Shown> shown;
  TuningDeviceId id;
  if (!f.file.empty()) {
    auto db = as_input("--file", [&] { return TuningDatabase::load(f.file); });
    id = db.device;
    shown.push_back({f.file, "file", std::move(db)});
  } else {
    id = device_id(f.device);
    const auto name = tuning_db_file_name(id);
    auto loaded = as_input("--device", [&] { return load_tuning_databases(id); });
    for (const auto& dir : tuning_db_search_path()) {
      Shown sh{dir.dir / name, dir.origin, std::nullopt};
      for (auto& [file, db] : loaded) {
        if (file == sh.file) sh.db = std::move(db);
      }
      shown.push_back(std::move(sh));
    }
  }

  if (f.json) {
    json doc;
    doc["schema"] = "clgauge-db-show-v1";
    doc["device"] = device_json(id);
    doc["file_name"] = tuning_db_file_name(id);
    json list = json::array();
    for (const auto& sh : shown) {
      json d;
      d["file"] = sh.file.string();
      d["origin"] = sh.origin;
      d["present"] = sh.db.has_value();
      d["entries"] = sh.db ? json::parse(sh.db->to_json())["entries"] : json::array();
      list.push_back(std::move(d));
    }
    doc["databases"] = std::move(list);
    s.out << doc.dump(2) << "\n";
    return 0;
  }
  s.out << "device: " << device_line(id) << "\n";
  s.out << "file name: " << tuning_db_file_name(id) << "\n";
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const auto& sh = shown[i];
    s.out << "[" << i + 1 << "] " << sh.file.string() << " (" << sh.origin
          << "): " << (sh.db ? count_text(sh.db->entries.size()) : std::string("absent")) << "\n";
    if (sh.db) print_entries(s.out, *sh.db);
  }
  return 0;
}

int run_merge(const MergeFlags& f, Streams s) {
  std::vector<TuningDatabase> dbs;
  for (const auto& in : f.inputs) {
    dbs.push_back(as_input("IN", [&] { return TuningDatabase::load(in); }));
  }
  TuningDatabase merged;
  merged.device = dbs.front().device;
  std::size_t total = 0;
  for (std::size_t i = 0; i < dbs.size(); ++i) {
    if (dbs[i].device != merged.device) {
      throw Error(ReasonCode::bad_input,
                  "IN " + f.inputs[i] + ": device: '" + device_line(dbs[i].device) +
                      "' differs from " + f.inputs.front() + "'s '" + device_line(merged.device) +
                      "'; merge only databases of one device");
    }
    merged.merge(dbs[i]);
    total += dbs[i].entries.size();
  }
  as_input("--out", [&] { merged.save(f.out); });
  s.out << "merged " << dbs.size() << " database" << (dbs.size() == 1 ? "" : "s") << " ("
        << count_text(total) << ") into " << f.out << ": " << count_text(merged.entries.size())
        << "\n";
  return 0;
}

TuningDatabase device_view(const std::string& spec) {
  const auto id = device_id(spec);
  TuningDatabase merged;
  merged.device = id;
  for (const auto& [file, db] : as_input("--device", [&] { return load_tuning_databases(id); })) {
    merged.merge(db);
  }
  return merged;
}

int run_export(const ExportFlags& f, Streams s) {
  const int sources = !f.file.empty() + !f.store.empty() + !f.device.empty();
  if (sources != 1) {
    throw Error(ReasonCode::bad_input,
                "give exactly one of --file DB, --store STORE or --device D (got " +
                    std::to_string(sources) + ")");
  }
  std::string text;
  std::size_t count = 0;
  if (!f.store.empty()) {
    if (f.format != "t4") {
      throw Error(ReasonCode::bad_input,
                  "--format " + f.format +
                      ": a results store exports as --format t4 (json is the tuning database "
                      "format: use --file or --device)");
    }
    text = as_input("--store", [&] { return export_t4_from_store(f.store); });
    count = json::parse(text)["results"].size();
  } else {
    const auto db = !f.file.empty()
                        ? as_input("--file", [&] { return TuningDatabase::load(f.file); })
                        : device_view(f.device);
    text = f.format == "t4" ? export_t4_from_db(db) : db.to_json();
    count = db.entries.size();
  }
  if (f.out.empty()) {
    s.out << text;
  } else {
    as_input("--out", [&] { write_file_atomically(f.out, text); });
    s.out << "wrote " << f.out << " (" << f.format << ", " << count
          << (f.format == "t4" ? " results" : (count == 1 ? " entry" : " entries")) << ")\n";
  }
  return 0;
}

}  // namespace

Runner add_db_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("db", "show, merge and export tuning databases");
  cmd->require_subcommand(1);

  auto show = std::make_shared<ShowFlags>();
  auto* show_cmd = cmd->add_subcommand(
      "show", "a device's databases along the search path, and which file each entry is in");
  auto* device = show_cmd->add_option(
      "--device", show->device,
      "device: flat index or substring of 'platform / device' (default: CLGAUGE_DEVICE, else the "
      "first GPU, else the first device)");
  auto* file = show_cmd->add_option("--file", show->file, "one database FILE instead");
  device->excludes(file);
  file->excludes(device);
  show_cmd->add_flag("--json", show->json, "print JSON");

  auto merge = std::make_shared<MergeFlags>();
  auto* merge_cmd = cmd->add_subcommand(
      "merge", "merge databases of one device (for each key the faster entry wins) into --out");
  merge_cmd->add_option("--out", merge->out, "the merged database FILE (replaced atomically)")
      ->required();
  merge_cmd->add_option("IN", merge->inputs, "database files")->required();

  auto exp = std::make_shared<ExportFlags>();
  auto* export_cmd = cmd->add_subcommand(
      "export", "a database (or a results store, as T4) in the json or t4 format");
  export_cmd->add_option("--format", exp->format, "json (the database format) or t4")
      ->check(CLI::IsMember({"json", "t4"}))
      ->capture_default_str();
  export_cmd->add_option("--file", exp->file, "a database FILE");
  export_cmd->add_option("--store", exp->store, "a results store FILE (t4 only)");
  export_cmd->add_option("--device", exp->device,
                         "the device's databases along the search path, merged");
  export_cmd->add_option("--out", exp->out, "write FILE (atomically) instead of stdout");

  return [show, show_cmd, merge, merge_cmd, exp, export_cmd](Streams s) {
    if (show_cmd->parsed()) return run_show(*show, s);
    if (merge_cmd->parsed()) return run_merge(*merge, s);
    if (export_cmd->parsed()) return run_export(*exp, s);
    return 2;
  };
}

}  // namespace clgauge::cli
