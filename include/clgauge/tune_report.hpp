#pragma once
// The report of a tuning run, for people: report.md tells the story per shape (winner
// against the baselines, decision and why, replay, what failed and why) and gnuplot draws
// the plots. Input is the report.json document the tuner writes
// ("schema": "clgauge-tune-report-v1", fields in docs/report.md).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace clgauge {

inline constexpr const char* kTuneReportSchema = "clgauge-tune-report-v1";

struct ReportFiles {
  std::vector<std::filesystem::path> files;  // written, in order: report.json, report.md, plots
  std::vector<std::string> warnings;         // e.g. gnuplot missing; the report is still usable
};

// report.md text from a report.json document (schema in docs/report.md), with links to the
// plots write_tune_report draws. Error(bad_input) naming the field for malformed input.
std::string tune_report_markdown(std::string_view report_json);
// The same; links the plots only when `link_plots` (no plots were drawn otherwise).
std::string tune_report_markdown(std::string_view report_json, bool link_plots);

// Writes report.json (as given, pretty-printed), report.md and PNG plots (gnuplot, Debian
// gnuplot-nox, run as a child process with the data inline) into dir, creating it.
// Error(bad_input) for malformed input, before anything is written; Error(io_error) naming
// dir when it cannot be written. A missing or failing gnuplot is a warning. Per shape:
// "<shape>-ranked.png" (GFLOP/s of every successful candidate by rank, baselines as
// horizontal lines) and "<shape>-progress.png" (each evaluation and the best so far).
ReportFiles write_tune_report(std::string_view report_json, const std::filesystem::path& dir);

// The gnuplot runner behind the plots above, shared with `clgauge bench --plot`: runs
// `script` (data inline) as a child process in `dir` (60 s at most) and returns the files of
// `expected` that are PNGs afterwards; the others are removed. A missing or failing gnuplot
// and each plot not drawn add a line to `warnings`.
std::vector<std::filesystem::path> draw_gnuplot_pngs(
    const std::string& script, const std::filesystem::path& dir,
    const std::vector<std::filesystem::path>& expected, std::vector<std::string>& warnings);
// A gnuplot single-quoted string ('' for a quote, line breaks as spaces).
std::string gnuplot_quote(std::string_view s);

}  // namespace clgauge
