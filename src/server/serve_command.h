// `serval serve`: loads the model repositories, starts the frontends and
// runs until SIGINT/SIGTERM, then shuts down in order (readiness off,
// frontends stop accepting, queued requests finish, models unload). SIGHUP
// reloads the TLS certificates.
#ifndef SERVAL_SERVER_SERVE_COMMAND_H_
#define SERVAL_SERVER_SERVE_COMMAND_H_

namespace CLI {
class App;
}

namespace serval {

// Registers the subcommand; `exit_code` receives its result when it runs.
void AddServeCommand(CLI::App* app, int* exit_code);

}  // namespace serval

#endif  // SERVAL_SERVER_SERVE_COMMAND_H_
