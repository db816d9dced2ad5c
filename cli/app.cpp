// app.cpp: CLI11 wiring. Flag values stay text here; config::load validates them like every layer.
#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <cctype>
#include <iostream>
#include <optional>

#include "cli/check_command.hpp"
#include "cli/client/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/serve_command.hpp"
#include "config/loader.hpp"
#include "config/rules.hpp"
#include "logging/log.hpp"
#include "logging/setup.hpp"
#include "os/signals.hpp"
#include "version.hpp"

namespace vpo::cli {
namespace {

constexpr const char* serve_footer = R"(CONFIGURATION FILE
  --config PATH, else $VPO_CONFIG_PATH, else $VPO_DATA_DIR/config.toml ($VPO_DATA_DIR
  defaults to ~/.vpo). A missing file at the default path is fine (defaults apply); a missing
  or unreadable explicit file is an error. Keys: database_path, [server] bind, port,
  shutdown_timeout, auth_token, allow_unauthenticated, [server.rate_limit] enabled,
  get_max_requests, mutate_max_requests, window_seconds, [logging] level, format, [jobs]
  workers, retention_days, auto_purge. Other sections and keys of VPO's config.toml are
  accepted and ignored.

ENVIRONMENT
  VPO_CONFIG_PATH, VPO_DATA_DIR, VPO_DATABASE_PATH, VPO_SERVER_BIND, VPO_SERVER_PORT,
  VPO_SERVER_SHUTDOWN_TIMEOUT, VPO_AUTH_TOKEN (secret), VPO_SERVER_ALLOW_UNAUTHENTICATED,
  VPO_LOG_LEVEL, VPO_LOG_FORMAT, VPO_JOBS_WORKERS, VPO_JOBS_RETENTION_DAYS,
  VPO_JOBS_AUTO_PURGE, VPO_SERVER_RATE_LIMIT_ENABLED, VPO_SERVER_RATE_LIMIT_GET_MAX_REQUESTS,
  VPO_SERVER_RATE_LIMIT_MUTATE_MAX_REQUESTS, VPO_SERVER_RATE_LIMIT_WINDOW_SECONDS. A set but
  invalid (or empty) value is an error, never ignored.

SOCKET ACTIVATION
  When systemd passes a listening socket (LISTEN_FDS, LISTEN_PID; contrib/systemd/vpo.socket),
  vpo serves on it instead of binding server.bind:server.port, so connections made while the
  service restarts wait in the kernel's queue instead of being refused.

PRECEDENCE
  command-line flag > config file > environment > built-in default. Every layer is validated
  in full, even where a higher layer overrides it. --check shows each value's origin.

SIGNALS
  SIGTERM/SIGINT drain gracefully (a second one is only logged); SIGQUIT forces the stop
  at once; SIGHUP reloads the config (all layers again, flags still win): logging.*,
  jobs.workers, jobs.retention_days, jobs.auto_purge, server.auth_token and
  server.rate_limit.* apply live; bind, port, database and shutdown_timeout need a restart;
  an invalid file keeps the running config. Any other signal that would end the process
  (SIGUSR1, SIGUSR2, SIGALRM, ...) is logged and ignored.

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
  if (!opts.check) os::block_daemon_signals();
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

constexpr const char* client_footer = R"(FINDING THE DAEMON
  --url, else $VPO_URL, else the config layers vpo serve reads (--config, $VPO_CONFIG_PATH,
  $VPO_DATA_DIR/config.toml; server.bind and server.port, $VPO_SERVER_BIND/$VPO_SERVER_PORT;
  a wildcard bind means 127.0.0.1). The token: server.auth_token or $VPO_AUTH_TOKEN.

EXIT CODES
  0  done
  1  the daemon answered an error (status: it is not healthy; scan --wait: the job did not
     complete)
  2  usage error
  3  the daemon cannot be reached (the message says where vpo looked)
)";

// The options every client command takes.
void add_client_common(CLI::App& cmd, client::options& o) {
  cmd.add_option("-c,--config", o.config,
                 "Config file to find the daemon and its token in [env: VPO_CONFIG_PATH] "
                 "[default: $VPO_DATA_DIR/config.toml]")
      ->type_name("PATH");
  cmd.add_option("--url", o.url,
                 "The daemon, http://HOST:PORT [env: VPO_URL] [default: from server.bind and "
                 "server.port]")
      ->type_name("URL");
  cmd.add_flag("--json", o.json, "Print the API's JSON unchanged instead of a table");
  cmd.add_option(
         "--timeout", o.timeout,
         "Seconds to wait for each answer; scan --wait gives up after 12 times this [default: 5]")
      ->type_name("SECONDS");
  cmd.footer(client_footer);
}

// `vpo status`, `vpo jobs list|show|cancel|retry`, `vpo scan`, `vpo files`; `chosen` names the
// command given.
void define_client(CLI::App& app, client::options& o, std::string& chosen) {
  auto pick = [&chosen](const std::string& name) { return [&chosen, name] { chosen = name; }; };
  auto* status = app.add_subcommand(
      "status", "One screen: the daemon's health, version, uptime, drain, jobs and library");
  add_client_common(*status, o);
  status->callback(pick("status"));

  auto* jobs = app.add_subcommand("jobs", "List, show, cancel or retry jobs");
  jobs->require_subcommand(1);
  auto* list = jobs->add_subcommand("list", "The jobs, newest first, as a table");
  add_client_common(*list, o);
  list->add_option("--status", o.status, "Only jobs in this status")
      ->type_name("STATUS")
      ->check(CLI::IsMember({"queued", "running", "completed", "failed", "cancelled"}));
  list->add_option("--type", o.type, "Only jobs of this type")->type_name("TYPE");
  list->add_option("--limit", o.limit, "At most N jobs, 1..1000 [default: 20]")->type_name("N");
  list->add_option("--offset", o.offset, "Skip the N newest matches [default: 0]")->type_name("N");
  list->callback(pick("jobs list"));
  for (auto [name, help] :
       {std::pair{"show", "One job, every field"},
        std::pair{"cancel", "Cancel a queued or running job"},
        std::pair{"retry", "Put a failed or cancelled job back in the queue"}}) {
    auto* cmd = jobs->add_subcommand(name, help);
    add_client_common(*cmd, o);
    cmd->add_option("ID", o.id, "The job's id (see 'vpo jobs list')")->required();
    cmd->callback(pick(std::string("jobs ") + name));
  }

  auto* scan =
      app.add_subcommand("scan", "Submit a scan of a directory (and follow it with --wait)");
  add_client_common(*scan, o);
  scan->add_option("DIR", o.dir, "The directory (a relative one is made absolute)")->required();
  scan->add_option("--priority", o.priority, "0..1000, lower runs first [default: 100]")
      ->type_name("N");
  scan->add_flag("--wait", o.wait,
                 "Follow the job to its end: a progress bar on a terminal, a line per 10 % "
                 "otherwise; exit 0 only when it completed");
  scan->callback(pick("scan"));

  auto* files = app.add_subcommand("files", "The library's files, by path");
  add_client_common(*files, o);
  files->add_flag("--missing", o.missing, "Only files gone from disk since they were scanned");
  files->add_option("--under", o.under, "Only files below this directory")->type_name("DIR");
  files->add_option("--limit", o.limit, "At most N files, 1..1000 [default: 50]")->type_name("N");
  files->add_option("--offset", o.offset, "Skip the first N files [default: 0]")->type_name("N");
  files->callback(pick("files"));
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
  auto names_of = [](CLI::App& a) {
    std::vector<std::string> out;
    for (const auto* s : a.get_subcommands({})) out.push_back(s->get_name());
    return out;
  };
  if (argc < 2) return "a command is required (" + joined(names_of(app)) + ")";
  std::string first = argv[1];
  if (first.rfind('-', 0) == 0) return std::nullopt;  // --help, --version: CLI11's
  CLI::App* sub = &app;
  std::string path;  // "jobs list"
  int i = 1;
  // Descend while the command expects a subcommand: `vpo jobs list ...`.
  while (i < argc && (sub == &app || sub->get_require_subcommand_min() > 0)) {
    std::string word = argv[i];
    if (word.rfind('-', 0) == 0) {
      if (word == "-h" || word == "--help") return std::nullopt;
      return "'vpo " + path + "' needs a command first (" + joined(names_of(*sub)) + ")";
    }
    CLI::App* next = nullptr;
    for (auto* s : sub->get_subcommands({}))
      if (s->get_name() == word) next = s;
    if (!next) {
      std::string best = config::rules::closest(word, names_of(*sub));
      std::string full = path.empty() ? word : path + " " + word;
      return "unknown command '" + full + "'" +
             (best.empty() ? "" : " (did you mean '" + best + "'?)") + "; commands" +
             (path.empty() ? "" : " of 'vpo " + path + "'") + ": " + joined(names_of(*sub));
    }
    sub = next;
    path = path.empty() ? word : path + " " + word;
    ++i;
  }
  if (sub->get_require_subcommand_min() > 0)
    return "'vpo " + path + "' needs a command (" + joined(names_of(*sub)) + ")";
  std::vector<std::string> names;
  for (const auto* opt : sub->get_options()) {
    for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
    for (const auto& n : opt->get_snames()) names.push_back("-" + n);
  }
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-' || looks_like_value(arg)) continue;
    std::string name = arg.substr(0, arg.find('='));
    const CLI::Option* opt = sub->get_option_no_throw(name);
    if (!opt) {
      std::string best = config::rules::closest(name, names);
      return "unknown option '" + name + "' for 'vpo " + path + "'" +
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

// The help command for a usage error: the deepest command the line names.
std::string help_for(CLI::App& app, int argc, char** argv) {
  CLI::App* sub = &app;
  std::string path = "vpo";
  for (int i = 1; i < argc; ++i) {
    CLI::App* next = nullptr;
    for (auto* s : sub->get_subcommands({}))
      if (s->get_name() == argv[i]) next = s;
    if (!next) break;
    sub = next;
    path += std::string(" ") + argv[i];
  }
  return path + " --help";
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"vpo: the Video Policy Orchestrator daemon", "vpo"};
  app.set_version_flag("--version", std::string("vpo ") + VPO_VERSION,
                       "Print the version and exit");
  app.require_subcommand(1);
  app.footer(
      "Run 'vpo serve --help' for the daemon's options, environment and exit codes, and\n"
      "'vpo COMMAND --help' for a client command's (they talk to a running daemon).");
  serve_options opts;
  CLI::App* serve = app.add_subcommand("serve",
                                       "Run the daemon in the foreground until "
                                       "SIGTERM/SIGINT (systemd/Kubernetes friendly)");
  define_serve(*serve, opts);
  client::options client_opts;
  std::string client_command;
  define_client(app, client_opts, client_command);
  if (auto problem = explain_usage(app, argc, argv)) {
    std::cerr << "vpo: usage error: " << *problem << "\n"
              << "Run '" << help_for(app, argc, argv) << "' for usage.\n";
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
              << "Run '" << help_for(app, argc, argv) << "' for usage.\n";
    return exit_code::usage;
  }
  if (!client_command.empty()) return client::run(client_command, client_opts);
  return run_serve_command(opts);
}

}  // namespace vpo::cli
