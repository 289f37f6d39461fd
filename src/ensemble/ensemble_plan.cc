#include "ensemble/ensemble_plan.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"

namespace serval {
namespace {

// Two shapes can describe the same tensor: same rank, and every dim equal
// or variable (-1) on either side.
bool ShapesAgree(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && a[i] != -1 && b[i] != -1) return false;
  }
  return true;
}

std::string Names(const std::vector<TensorSpec>& tensors) {
  return absl::StrJoin(tensors, ", ", [](std::string* out, const auto& t) {
    out->append(t.name);
  });
}

// The map's entries sorted by key: protobuf maps have no order, messages
// and bindings should.
std::vector<std::pair<std::string, std::string>> Sorted(
    const google::protobuf::Map<std::string, std::string>& map) {
  std::vector<std::pair<std::string, std::string>> out(map.begin(), map.end());
  std::sort(out.begin(), out.end());
  return out;
}

class Builder {
 public:
  Builder(const ModelSpec& ensemble, const StepLookup& lookup)
      : ensemble_(ensemble), lookup_(lookup) {
    plan_.name = ensemble.name;
  }

  absl::StatusOr<EnsemblePlan> Build(
      const inference::ModelEnsembling& scheduling) {
    if (scheduling.step_size() == 0) {
      Problem("ensemble_scheduling has no step; expected at least one");
      return Result();
    }
    for (size_t i = 0; i < ensemble_.inputs.size(); ++i) {
      const TensorSpec& in = ensemble_.inputs[i];
      plan_.input_tensors.push_back(
          AddTensor(in.name, in.datatype, ensemble_.FullInputShape(i), -1));
    }
    // Productions first, so that consumers can be checked in any order.
    std::vector<std::optional<ModelSpec>> specs;
    for (int s = 0; s < scheduling.step_size(); ++s) {
      specs.push_back(AddStep(s, scheduling.step(s)));
    }
    for (int s = 0; s < scheduling.step_size(); ++s) {
      if (specs[s]) BindInputs(s, scheduling.step(s), *specs[s]);
    }
    CheckOutputs();
    CheckInputsConsumed();
    CheckAcyclic();
    return Result();
  }

 private:
  void Problem(std::string what) { problems_.push_back(std::move(what)); }

  absl::StatusOr<EnsemblePlan> Result() {
    // A step model that is not available hides what depends on its
    // tensors: only those are reported (NOT_FOUND: loading them may fix it).
    if (!missing_.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "ensemble '", plan_.name, "': ", absl::StrJoin(missing_, "; ")));
    }
    if (problems_.empty()) return std::move(plan_);
    return absl::InvalidArgumentError(absl::StrCat(
        "ensemble '", plan_.name, "': ", absl::StrJoin(problems_, "; ")));
  }

  size_t AddTensor(const std::string& name, DataType type, Shape shape,
                   int producer) {
    plan_.tensors.push_back({name, type, std::move(shape), producer, {}});
    index_[name] = plan_.tensors.size() - 1;
    return plan_.tensors.size() - 1;
  }

  std::string Label(int s) const {
    return absl::StrCat("step ", s, " (model '",
                        plan_.steps.size() > static_cast<size_t>(s)
                            ? plan_.steps[s].model
                            : std::string(),
                        "')");
  }

  std::string Producer(const EnsembleTensor& t) const {
    return t.producer < 0 ? std::string("the ensemble input")
                          : absl::StrCat(Label(t.producer), " output");
  }

  std::optional<ModelSpec> AddStep(int s,
                                   const inference::ModelEnsembling::Step& st) {
    EnsembleStepPlan step;
    step.model = st.model_name();
    step.version = st.model_version() > 0 ? st.model_version() : -1;
    plan_.steps.push_back(step);
    if (st.model_name().empty()) {
      Problem(absl::StrCat("step ", s, " names no model_name"));
      return std::nullopt;
    }
    if (st.model_name() == plan_.name) {
      Problem(absl::StrCat(Label(s), " names the ensemble itself"));
      return std::nullopt;
    }
    if (!st.model_namespace().empty()) {
      Problem(absl::StrCat(Label(s),
                           ": model_namespace is not supported "
                           "(serval has one namespace)"));
      return std::nullopt;
    }
    absl::StatusOr<ModelSpec> spec = lookup_(st.model_name(), step.version);
    if (!spec.ok()) {
      missing_.push_back(absl::StrCat(
          Label(s), ": the model is not available: ", spec.status().message()));
      return std::nullopt;
    }
    if (ensemble_.batching() &&
        spec->max_batch_size < ensemble_.max_batch_size) {
      Problem(
          absl::StrCat(Label(s), " has max_batch_size ", spec->max_batch_size,
                       ", less than the ensemble's ", ensemble_.max_batch_size,
                       "; a batch the ensemble accepts must fit every step"));
    }
    for (const auto& [model_tensor, name] : Sorted(st.output_map())) {
      auto o = spec->OutputIndex(model_tensor);
      if (!o) {
        Problem(absl::StrCat(Label(s), ": output_map names '", model_tensor,
                             "', which is not an output of '", step.model,
                             "' (outputs: ", Names(spec->outputs), ")"));
        continue;
      }
      if (auto it = index_.find(name); it != index_.end()) {
        Problem(absl::StrCat(Label(s), ": output_map produces tensor '", name,
                             "', which ", Producer(plan_.tensors[it->second]),
                             " already produces; each tensor has one "
                             "producer"));
        continue;
      }
      const size_t t = AddTensor(name, spec->outputs[*o].datatype,
                                 spec->FullOutputShape(*o), s);
      plan_.steps[s].outputs.push_back({model_tensor, t});
    }
    if (st.output_map().empty()) {
      Problem(absl::StrCat(Label(s), " has an empty output_map"));
    }
    return std::move(*spec);
  }

  void BindInputs(int s, const inference::ModelEnsembling::Step& st,
                  const ModelSpec& spec) {
    EnsembleStepPlan& step = plan_.steps[s];
    for (const auto& [model_tensor, name] : Sorted(st.input_map())) {
      auto i = spec.InputIndex(model_tensor);
      if (!i) {
        Problem(absl::StrCat(Label(s), ": input_map names '", model_tensor,
                             "', which is not an input of '", step.model,
                             "' (inputs: ", Names(spec.inputs), ")"));
        continue;
      }
      auto it = index_.find(name);
      if (it == index_.end()) {
        Problem(absl::StrCat(Label(s), ": input '", model_tensor,
                             "' reads tensor '", name,
                             "', which is neither an ensemble input nor an "
                             "output of any step"));
        continue;
      }
      EnsembleTensor& t = plan_.tensors[it->second];
      const TensorSpec& want = spec.inputs[*i];
      const Shape want_shape = spec.FullInputShape(*i);
      if (t.datatype != want.datatype) {
        Problem(absl::StrCat(Label(s), ": input '", model_tensor, "' is ",
                             ToAbsl(ApiName(want.datatype)), " but tensor '",
                             name, "' (", Producer(t), ") is ",
                             ToAbsl(ApiName(t.datatype))));
      } else if (!ShapesAgree(t.shape, want_shape)) {
        Problem(absl::StrCat(Label(s), ": input '", model_tensor,
                             "' has shape ", ShapeToString(want_shape),
                             " but tensor '", name, "' (", Producer(t),
                             ") has shape ", ShapeToString(t.shape)));
      }
      t.consumers.push_back(s);
      step.inputs.push_back({model_tensor, it->second});
    }
    for (const TensorSpec& in : spec.inputs) {
      if (in.optional || st.input_map().count(in.name) > 0) continue;
      Problem(absl::StrCat(Label(s), ": required input '", in.name, "' of '",
                           step.model, "' is not in its input_map"));
    }
  }

  void CheckOutputs() {
    for (size_t o = 0; o < ensemble_.outputs.size(); ++o) {
      const TensorSpec& out = ensemble_.outputs[o];
      auto it = index_.find(out.name);
      if (it == index_.end() || plan_.tensors[it->second].producer < 0) {
        Problem(absl::StrCat("ensemble output '", out.name,
                             "' is not produced by any step's output_map"));
        continue;
      }
      const EnsembleTensor& t = plan_.tensors[it->second];
      const Shape shape = ensemble_.FullOutputShape(o);
      if (t.datatype != out.datatype) {
        Problem(absl::StrCat("ensemble output '", out.name, "' is ",
                             ToAbsl(ApiName(out.datatype)), " but ",
                             Producer(t), " '", out.name, "' is ",
                             ToAbsl(ApiName(t.datatype))));
      } else if (!ShapesAgree(t.shape, shape)) {
        Problem(absl::StrCat("ensemble output '", out.name, "' has shape ",
                             ShapeToString(shape), " but ", Producer(t), " '",
                             out.name, "' has shape ", ShapeToString(t.shape)));
      }
      plan_.output_tensors.push_back(it->second);
    }
  }

  void CheckInputsConsumed() {
    for (size_t t : plan_.input_tensors) {
      if (plan_.tensors[t].consumers.empty()) {
        Problem(absl::StrCat("ensemble input '", plan_.tensors[t].name,
                             "' is not read by any step's input_map"));
      }
    }
  }

  // Kahn's algorithm over step -> step edges; what is left is on a cycle
  // (or downstream of one).
  void CheckAcyclic() {
    const size_t n = plan_.steps.size();
    std::vector<size_t> waiting(n, 0);
    for (size_t s = 0; s < n; ++s) {
      for (const auto& b : plan_.steps[s].inputs) {
        if (plan_.tensors[b.tensor].producer >= 0) ++waiting[s];
      }
    }
    std::vector<size_t> ready;
    for (size_t s = 0; s < n; ++s) {
      if (waiting[s] == 0) ready.push_back(s);
    }
    size_t done = 0;
    while (!ready.empty()) {
      const size_t s = ready.back();
      ready.pop_back();
      ++done;
      for (const auto& out : plan_.steps[s].outputs) {
        for (size_t c : plan_.tensors[out.tensor].consumers) {
          if (--waiting[c] == 0) ready.push_back(c);
        }
      }
    }
    if (done == n) return;
    std::vector<std::string> stuck;
    for (size_t s = 0; s < n; ++s) {
      if (waiting[s] > 0) stuck.push_back(Label(static_cast<int>(s)));
    }
    Problem(
        absl::StrCat("steps form a cycle (each waits for another's "
                     "output): ",
                     absl::StrJoin(stuck, ", ")));
  }

  const ModelSpec& ensemble_;
  const StepLookup& lookup_;
  EnsemblePlan plan_;
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<std::string> problems_;
  std::vector<std::string> missing_;
};

}  // namespace

std::string EnsemblePlan::StepLabel(size_t step) const {
  return absl::StrCat("step ", step, " (model '", steps[step].model, "')");
}

absl::StatusOr<EnsemblePlan> BuildEnsemblePlan(
    const ModelSpec& ensemble, const inference::ModelEnsembling& scheduling,
    const StepLookup& lookup) {
  return Builder(ensemble, lookup).Build(scheduling);
}

std::vector<std::string> EnsembleStepModels(
    const inference::ModelConfig& config) {
  std::vector<std::string> out;
  if (!config.has_ensemble_scheduling()) return out;
  for (const auto& step : config.ensemble_scheduling().step()) {
    if (step.model_name().empty()) continue;
    if (std::find(out.begin(), out.end(), step.model_name()) == out.end()) {
      out.push_back(step.model_name());
    }
  }
  return out;
}

}  // namespace serval
