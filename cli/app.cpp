// app.cpp: CLI11 wiring. Flag values stay text here; config::load validates them like every layer.
#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <cctype>
#include <iostream>
#include <optional>

#include "cli/check_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/serve_command.hpp"
#include "config/loader.hpp"
#include "config/rules.hpp"
#include "logging/log.hpp"
#include "logging/setup.hpp"
#include "net/signals.hpp"
#include "version.hpp"

namespace vpo::cli {
namespace {

constexpr const char* serve_footer = R"(CONFIGURATION FILE
  --config PATH, else $VPO_CONFIG_PATH, else $VPO_DATA_DIR/config.toml ($VPO_DATA_DIR
  defaults to ~/.vpo). A missing file at the default path is fine (defaults apply); a missing
  or unreadable explicit file is an error. Keys: database_path, [server] bind, port,
  shutdown_timeout, auth_token, allow_unauthenticated, [logging] level, format, [jobs] workers.
  Other sections of VPO's config.toml are accepted and ignored.

ENVIRONMENT
  VPO_CONFIG_PATH, VPO_DATA_DIR, VPO_DATABASE_PATH, VPO_SERVER_BIND, VPO_SERVER_PORT,
  VPO_SERVER_SHUTDOWN_TIMEOUT, VPO_AUTH_TOKEN (secret), VPO_SERVER_ALLOW_UNAUTHENTICATED,
  VPO_LOG_LEVEL, VPO_LOG_FORMAT, VPO_JOBS_WORKERS. A set but invalid (or empty) value is an
  error, never ignored.

PRECEDENCE
  command-line flag > config file > environment > built-in default. Every layer is validated
  in full, even where a higher layer overrides it. --check shows each value's origin.

SIGNALS
  SIGTERM/SIGINT drain gracefully (a second one is only logged); SIGQUIT forces the stop
  at once; SIGHUP reloads the config (all layers again, flags still win): logging.level,
  logging.format, jobs.workers and server.auth_token apply live; bind, port, database and
  shutdown_timeout need a restart; an invalid file keeps the running config. Any other
  signal that would end the process (SIGUSR1, SIGUSR2, SIGALRM, ...) is logged and ignored.

EXIT CODES
  0        drained cleanly after SIGTERM/SIGINT, or --check passed
  1        startup failure (config, database, lock, bind) or --check failed
  2        command-line usage error (unknown flag, invalid flag value)
  130,131,143  drain deadline reached or SIGQUIT: work was requeued (128 + signal number)
)";

struct serve_options {
  bool check = false;
  std::map<std::string, std::string> values;  // dotted key -> flag text
};

// Adds a text option whose value, when given, lands in `opts.values[key]`.
void add_text(CLI::App& serve, serve_options& opts, const std::string& names,
              const std::string& key, const std::string& type, const std::string& help) {
  serve
      .add_option_function<std::string>(
          names, [&opts, key](const std::string& v) { opts.values[key] = v; }, help)
      ->type_name(type);
}

void define_serve(CLI::App& serve, serve_options& opts) {
  serve.add_flag("--check", opts.check,
                 "Load and validate every config layer, print the effective configuration with "
                 "each value's origin and the shutdown timeline, then exit (0 valid, 1 invalid). "
                 "Opens no database and binds no port.");
  add_text(serve, opts, "-c,--config", "config", "PATH",
           "Config file [env: VPO_CONFIG_PATH] [default: $VPO_DATA_DIR/config.toml]");
  add_text(serve, opts, "--bind", "server.bind", "ADDR",
           "Address to listen on: IP or host name [config: server.bind] [env: VPO_SERVER_BIND] "
           "[default: 127.0.0.1]");
  add_text(serve, opts, "-p,--port", "server.port", "N",
           "TCP port, 1..65535 [config: server.port] [env: VPO_SERVER_PORT] [default: 8321]");
  add_text(serve, opts, "--shutdown-timeout", "server.shutdown_timeout", "SECONDS",
           "Drain deadline in seconds, > 0 [config: server.shutdown_timeout] "
           "[env: VPO_SERVER_SHUTDOWN_TIMEOUT] [default: 30]");
  add_text(serve, opts, "--log-level", "logging.level", "LEVEL",
           "debug, info, warning (warn), error; any case [config: logging.level] "
           "[env: VPO_LOG_LEVEL] [default: info]");
  add_text(serve, opts, "--log-format", "logging.format", "FORMAT",
           "text or json [config: logging.format] [env: VPO_LOG_FORMAT] [default: text]");
  add_text(serve, opts, "--db", "database_path", "PATH",
           "SQLite library database [config: database_path] [env: VPO_DATABASE_PATH] "
           "[default: $VPO_DATA_DIR/library.db]");
  add_text(serve, opts, "--workers", "jobs.workers", "N",
           "Job workers, 1..64 [config: jobs.workers] [env: VPO_JOBS_WORKERS] [default: 2]");
  serve.footer(serve_footer);
}

int run_serve_command(const serve_options& opts) {
  config::load_input input;
  input.cli = opts.values;
  input.getenv = config::process_getenv;
  config::loaded_config loaded = config::load(input);

  // Before the first thread starts (the log thread): every thread inherits the blocked mask,
  // so only the daemon's signal thread receives SIGTERM/SIGINT/SIGQUIT/SIGHUP.
  if (!opts.check) net::block_daemon_signals();
  logging::setup(loaded.values.logging);
  logging::logger log("vpo.config");
  for (const auto& n : loaded.notes) log.info(n.message, {{"key", n.key}});
  for (const auto& w : loaded.warnings) log.warn(w.message, {{"key", w.key}});
  int code = exit_code::ok;
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) log.error(e.message);
    code = loaded.has_cli_error() ? exit_code::usage : exit_code::startup_failure;
  } else if (opts.check) {
    code = run_check(loaded);
  } else {
    code = run_serve(loaded, input);
  }
  logging::shutdown();
  return code;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

bool looks_like_value(const std::string& arg) {  // "-1" is a (bad) value, not an option
  return arg.size() > 1 && arg[0] == '-' &&
         (std::isdigit(static_cast<unsigned char>(arg[1])) || arg[1] == '.');
}

// What CLI11's own messages leave unclear: an unknown command, a mistyped option, an option
// without its value. Each message names what is wrong and what would be right; nullopt when
// the command line looks fine (CLI11 then parses it).
std::optional<std::string> explain_usage(CLI::App& app, int argc, char** argv) {
  std::vector<std::string> commands;
  for (const auto* s : app.get_subcommands({})) commands.push_back(s->get_name());
  if (argc < 2) return "a command is required (" + joined(commands) + ")";
  std::string first = argv[1];
  if (first.rfind('-', 0) == 0) return std::nullopt;  // --help, --version: CLI11's
  CLI::App* sub = nullptr;
  for (auto* s : app.get_subcommands({}))
    if (s->get_name() == first) sub = s;
  if (!sub) {
    std::string best = config::rules::closest(first, commands);
    return "unknown command '" + first + "'" +
           (best.empty() ? "" : " (did you mean '" + best + "'?)") +
           "; commands: " + joined(commands);
  }
  std::vector<std::string> names;
  for (const auto* opt : sub->get_options()) {
    for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
    for (const auto& n : opt->get_snames()) names.push_back("-" + n);
  }
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-' || looks_like_value(arg)) continue;
    std::string name = arg.substr(0, arg.find('='));
    const CLI::Option* opt = sub->get_option_no_throw(name);
    if (!opt) {
      std::string best = config::rules::closest(name, names);
      return "unknown option '" + name + "' for 'vpo " + first + "'" +
             (best.empty() ? "" : " (did you mean '" + best + "'?)");
    }
    bool takes_value = opt->get_items_expected_min() > 0;
    if (!takes_value || arg.find('=') != std::string::npos) continue;
    bool has_value = i + 1 < argc && (argv[i + 1][0] != '-' || looks_like_value(argv[i + 1]));
    if (!has_value)
      return "option " + name + " needs a value: " + opt->get_type_name() + " (" +
             opt->get_description() + ")";
    ++i;  // its value
  }
  return std::nullopt;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"vpo: the Video Policy Orchestrator daemon", "vpo"};
  app.set_version_flag("--version", std::string("vpo ") + VPO_VERSION,
                       "Print the version and exit");
  app.require_subcommand(1);
  app.footer("Run 'vpo serve --help' for the daemon's options, environment and exit codes.");
  serve_options opts;
  CLI::App* serve = app.add_subcommand("serve",
                                       "Run the daemon in the foreground until "
                                       "SIGTERM/SIGINT (systemd/Kubernetes friendly)");
  define_serve(*serve, opts);
  if (auto problem = explain_usage(app, argc, argv)) {
    std::cerr << "vpo: usage error: " << *problem << "\n"
              << "Run '"
              << (argc > 1 && std::string(argv[1]) == "serve" ? "vpo serve --help" : "vpo --help")
              << "' for usage.\n";
    return exit_code::usage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "vpo: usage error: " << e.what() << "\n"
              << "Run '" << (serve->parsed() ? "vpo serve --help" : "vpo --help")
              << "' for usage.\n";
    return exit_code::usage;
  }
  return run_serve_command(opts);
}

}  // namespace vpo::cli
