// main.cpp: the vpo executable's entry point; everything lives in vpo_core.
#include "cli/app.hpp"

int main(int argc, char** argv) {
  return vpo::cli::run(argc, argv);
}
