// app.hpp: the command line (CLI11): `vpo --version`, `vpo --help`, `vpo serve [--check] ...`.
#pragma once

namespace vpo::cli {

/// Parses argv, runs the chosen command and returns the process exit code.
int run(int argc, char** argv);

}  // namespace vpo::cli
