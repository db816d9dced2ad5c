// main.cpp: the vpo executable's entry point; everything lives in the rooms' libraries (vpo_cli and below).
#include "cli/app.hpp"

int main(int argc, char** argv) {
  return vpo::cli::run(argc, argv);
}
