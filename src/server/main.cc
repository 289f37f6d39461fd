// The serval binary: `serval serve`, and the tools as subcommands.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "server/serve_command.h"
#include "server/server.h"
#include "tools/perf/perf_command.h"
#include "tools/tune/tune_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "serval: a deep-learning inference server (KServe v2 over HTTP/REST and "
      "gRPC, Triton model repositories)"};
  app.set_version_flag("--version", serval::kServerVersion);
  app.require_subcommand(1);
  int exit_code = 0;
  serval::AddServeCommand(&app, &exit_code);
  serval::AddPerfCommand(&app, &exit_code);
  serval::AddTuneCommand(&app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
