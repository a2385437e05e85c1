// clgauge-worker: the supervised process in which the tuner builds and times candidates.
#include "tuner/worker/worker.hpp"

int main(int argc, char** argv) {
  return clgauge::tuner::worker_main(argc, argv, {});
}
