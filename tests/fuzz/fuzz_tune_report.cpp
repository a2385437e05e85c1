// report.json documents given to the report writer's markdown.
#include "clgauge/tune_report.hpp"
#include "fuzz/fuzz_util.hpp"

void fuzz_one(std::string_view input) {
  (void)clgauge::tune_report_markdown(input);
}
