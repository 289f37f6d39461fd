// `serval tune`: finds the best configuration of a model for an objective
// under constraints, on a running serval (or one it starts), by hot reload.
#ifndef SERVAL_TOOLS_TUNE_TUNE_COMMAND_H_
#define SERVAL_TOOLS_TUNE_TUNE_COMMAND_H_

namespace CLI {
class App;
}

namespace serval {

// Registers the subcommand; `exit_code` receives its result when it runs.
void AddTuneCommand(CLI::App* app, int* exit_code);

}  // namespace serval

#endif  // SERVAL_TOOLS_TUNE_TUNE_COMMAND_H_
