// ModelManager and RepositoryPoller over a fake VersionLoader (no plugin):
// hot swaps, failed reloads, unload with requests in flight, control modes,
// version policy changes, uploads and the poll debounce.
#include "lifecycle/model_manager.h"

#include <atomic>
#include <filesystem>
#include <functional>

#include "absl/strings/str_split.h"
#include "config/config_parser.h"
#include "gtest/gtest.h"
#include "lifecycle/repository_poller.h"
#include "repository/test_tree.h"
#include "repository/version_policy.h"

namespace serval {
namespace {

// Runs nothing; the manager never sends requests in these tests.
class IdleExecutor final : public BatchExecutor {
 public:
  size_t instance_count() const override { return 1; }
  BatchResult Execute(size_t, std::span<PendingPtr>) override {
    return {absl::OkStatus(), {}};
  }
};

// The loader without a backend: reads config.pbtxt (or the override) and
// applies the version policy like the real one. Backends other than
// "identity" fail Prepare; a config with parameter "fail_load" fails Load.
class FakeLoader final : public VersionLoader {
 public:
  absl::StatusOr<PreparedModel> Prepare(
      const ScannedModel& model,
      const inference::ModelConfig* config_override) override {
    PreparedModel p;
    if (config_override != nullptr) {
      p.config = *config_override;
    } else {
      auto read = ReadModelConfig(model.path);
      if (!read.ok()) return read.status();
      if (read->has_value()) p.config = **read;
    }
    if (p.config.backend() != "identity") {
      return absl::NotFoundError("no backend '" + p.config.backend() + "'");
    }
    auto selection = SelectVersions(p.config.version_policy(), model.versions);
    if (!selection.ok()) return selection.status();
    if (selection->versions.empty()) return absl::NotFoundError("no version");
    p.versions = selection->versions;
    return p;
  }

  // Parameter "needs": the comma-separated models it depends on.
  std::vector<std::string> Dependencies(const ScannedModel& model) override {
    auto read = ReadModelConfig(model.path);
    if (!read.ok() || !read->has_value()) return {};
    auto it = (*read)->parameters().find("needs");
    if (it == (*read)->parameters().end()) return {};
    return absl::StrSplit(it->second.string_value(), ',');
  }

  absl::StatusOr<ModelHandle> Load(const ScannedModel& model,
                                   const PreparedModel& prepared,
                                   int64_t version,
                                   std::shared_ptr<const void> files) override {
    ++loads;
    {
      absl::MutexLock lock(&order_mu);
      order.push_back(model.name);
    }
    if (during_load) during_load();
    if (prepared.config.parameters().contains("fail_load")) {
      return absl::InternalError("load failed as asked");
    }
    ModelVersionOptions o;
    o.name = model.name;
    o.version = version;
    o.config = prepared.config;
    o.step_models = Dependencies(model);
    auto v = std::make_unique<ModelVersion>(std::move(o));
    v->set_files_owner(std::move(files));
    v->StartScheduler(std::make_unique<IdleExecutor>());
    return MakeModelHandle(std::move(v), &reaper);
  }

  std::atomic<int> loads{0};
  // Called inside Load: what a request sees while a version loads.
  std::function<void()> during_load;
  absl::Mutex order_mu;
  std::vector<std::string> order;  // names, in load order
  ThreadPool reaper{1};
};

constexpr char kConfig[] = R"(
  name: "m" backend: "identity" max_batch_size: 0
  input [ { name: "IN" data_type: TYPE_FP32 dims: [ 4 ] } ]
  output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]
)";

std::string JsonConfig(const std::string& extra = "") {
  return R"({"name": "m", "backend": "identity", "max_batch_size": 0,
    "input": [{"name": "IN", "data_type": "TYPE_FP32", "dims": [4]}],
    "output": [{"name": "OUT", "data_type": "TYPE_FP32", "dims": [4]}])" +
         extra + "}";
}

class ModelManagerTest : public ::testing::Test {
 protected:
  ManagerOptions Options(ModelControlMode mode,
                         std::vector<std::string> startup = {}) {
    ManagerOptions o;
    o.repositories = {tree_.root().string()};
    o.loader = &loader_;
    o.control_mode = mode;
    o.startup_models = std::move(startup);
    return o;
  }
  std::unique_ptr<ModelManager> Start(ModelControlMode mode,
                                      std::vector<std::string> startup = {}) {
    auto m = std::make_unique<ModelManager>(Options(mode, std::move(startup)));
    EXPECT_TRUE(m->LoadAll().ok());
    return m;
  }
  static std::vector<std::string> Rows(const ModelManager& m) {
    std::vector<std::string> out;
    for (const auto& s : m.Index()) {
      out.push_back(s.model + ":" + std::to_string(s.version) + ":" +
                    std::string(VersionStateName(s.state)));
    }
    return out;
  }
  static int64_t Serving(const ModelManager& m) {
    auto h = m.Get("m", -1);
    return h.ok() ? (*h)->version() : -1;
  }

  // Declared first: destroyed after the managers that use it.
  FakeLoader loader_;
  TestTree tree_;
};

std::string NeedsConfig(const std::string& name, const std::string& needs) {
  std::string c = kConfig;
  c.replace(c.find("name: \"m\""), 9, "name: \"" + name + "\"");
  if (!needs.empty()) {
    c += "parameters { key: \"needs\" value { string_value: \"" + needs +
         "\" } }\n";
  }
  return c;
}

TEST_F(ModelManagerTest, ModelsLoadAfterWhatTheyDependOn) {
  // top -> mid -> {a, b}; the load threads would otherwise take them in
  // any order.
  tree_.File("top/config.pbtxt", NeedsConfig("top", "mid"));
  tree_.File("mid/config.pbtxt", NeedsConfig("mid", "a,b"));
  tree_.File("a/config.pbtxt", NeedsConfig("a", ""));
  tree_.File("b/config.pbtxt", NeedsConfig("b", ""));
  for (const char* d : {"top/1", "mid/1", "a/1", "b/1"}) tree_.Dir(d);
  auto m = Start(ModelControlMode::kNone);
  std::vector<std::string> order;
  {
    absl::MutexLock lock(&loader_.order_mu);
    order = loader_.order;
  }
  ASSERT_EQ(order.size(), 4u);
  auto at = [&](const std::string& n) {
    return std::find(order.begin(), order.end(), n) - order.begin();
  };
  EXPECT_LT(at("a"), at("mid"));
  EXPECT_LT(at("b"), at("mid"));
  EXPECT_LT(at("mid"), at("top"));
}

TEST_F(ModelManagerTest, ExplicitLoadBringsDependenciesAndUnloadTakesThem) {
  tree_.File("top/config.pbtxt", NeedsConfig("top", "a"));
  tree_.File("a/config.pbtxt", NeedsConfig("a", ""));
  tree_.File("other/config.pbtxt", NeedsConfig("other", ""));
  for (const char* d : {"top/1", "a/1", "other/1"}) tree_.Dir(d);
  // --load-model top loads a too.
  auto m = Start(ModelControlMode::kExplicit, {"top"});
  EXPECT_TRUE(m->Get("a", -1).ok());
  EXPECT_TRUE(m->Get("top", -1).ok());
  EXPECT_FALSE(m->Get("other", -1).ok());
  ASSERT_TRUE(m->UnloadFromApi("a", false).ok());
  // The API load of top loads its missing dependency first.
  ASSERT_TRUE(m->LoadFromApi("top", {}).ok());
  EXPECT_TRUE(m->Get("a", -1).ok());
  // Without unload_dependents a stays; with it, a goes unless another
  // serving model still needs it.
  tree_.File("top2/config.pbtxt", NeedsConfig("top2", "a"));
  tree_.Dir("top2/1");
  ASSERT_TRUE(m->LoadFromApi("top2", {}).ok());
  ASSERT_TRUE(m->UnloadFromApi("top", true).ok());
  EXPECT_TRUE(m->Get("a", -1).ok());
  ASSERT_TRUE(m->UnloadFromApi("top2", true).ok());
  EXPECT_FALSE(m->Get("a", -1).ok());
  EXPECT_FALSE(m->Get("top2", -1).ok());
}

TEST_F(ModelManagerTest, ReloadSwitchesWhileAHeldVersionFinishes) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  tree_.Dir("m/2");
  auto m = Start(ModelControlMode::kExplicit, {"m"});
  ASSERT_EQ(Serving(*m), 2);
  ModelHandle in_flight = *m->Get("m", -1);

  LoadRequest to_v1;
  to_v1.config_json =
      JsonConfig(R"(, "version_policy": {"specific": {"versions": [1]}})");
  ASSERT_TRUE(m->LoadFromApi("m", to_v1).ok());
  EXPECT_EQ(Serving(*m), 1);
  EXPECT_EQ(in_flight->version(), 2);  // still usable
  EXPECT_EQ(Rows(*m), (std::vector<std::string>{"m:1:READY", "m:2:UNLOADING"}));

  in_flight.reset();
  loader_.reaper.Drain();
  EXPECT_EQ(Rows(*m), (std::vector<std::string>{"m:1:READY"}));
}

TEST_F(ModelManagerTest, FailedReloadKeepsTheServingVersion) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  auto m = Start(ModelControlMode::kExplicit, {"*"});
  ModelHandle before = *m->Get("m", -1);

  LoadRequest bad_backend;
  bad_backend.config_json = R"({"name": "m", "backend": "no_such_backend"})";
  EXPECT_FALSE(m->LoadFromApi("m", bad_backend).ok());

  LoadRequest bad_load;
  bad_load.config_json =
      JsonConfig(R"(, "parameters": {"fail_load": {"string_value": "yes"}})");
  absl::Status failed = m->LoadFromApi("m", bad_load);
  EXPECT_EQ(failed.code(), absl::StatusCode::kInternal) << failed;

  EXPECT_EQ(m->Get("m", -1)->get(), before.get());
  auto index = m->Index();
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index[0].state, VersionState::kReady);
  EXPECT_NE(index[0].reason.find("the last load failed"), std::string::npos)
      << index[0].reason;
}

TEST_F(ModelManagerTest, UnloadLeavesInFlightVersionsAlive) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  auto m = Start(ModelControlMode::kExplicit, {"m"});
  ModelHandle in_flight = *m->Get("m", -1);
  ASSERT_TRUE(m->UnloadFromApi("m", /*unload_dependents=*/true).ok());
  auto gone = m->Get("m", -1);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);  // as Triton
  EXPECT_NE(
      std::string(gone.status().message())
          .find("Request for unknown model: 'm' has no available versions"),
      std::string::npos);
  EXPECT_NE(std::string(gone.status().message()).find("unloaded"),
            std::string::npos);
  EXPECT_EQ(Rows(*m), (std::vector<std::string>{"m:1:UNLOADING"}));
  in_flight.reset();
  loader_.reaper.Drain();
  EXPECT_EQ(Rows(*m), (std::vector<std::string>{"m:1:UNAVAILABLE"}));
  EXPECT_TRUE(m->UnloadFromApi("m", false).ok());  // idempotent
  EXPECT_EQ(m->UnloadFromApi("other", false).code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(m->LoadFromApi("m", {}).ok());
  EXPECT_EQ(Serving(*m), 1);
}

TEST_F(ModelManagerTest, ARequestDuringALoadIsToldToRetry) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  auto m = Start(ModelControlMode::kExplicit, {"m"});
  ASSERT_TRUE(m->UnloadFromApi("m", false).ok());
  loader_.reaper.Drain();
  EXPECT_EQ(m->Get("m", -1).status().code(), absl::StatusCode::kNotFound);
  absl::Status during;
  loader_.during_load = [&] { during = m->Get("m", -1).status(); };
  ASSERT_TRUE(m->LoadFromApi("m", {}).ok());
  loader_.during_load = nullptr;
  EXPECT_EQ(during.code(), absl::StatusCode::kUnavailable) << during;
  EXPECT_TRUE(m->Get("m", -1).ok());
}

TEST_F(ModelManagerTest, ApiRefusedUnlessExplicit) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  for (auto mode : {ModelControlMode::kNone, ModelControlMode::kPoll}) {
    auto m = Start(mode);
    EXPECT_EQ(Serving(*m), 1);
    EXPECT_EQ(m->LoadFromApi("m", {}).code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(m->UnloadFromApi("m", false).code(),
              absl::StatusCode::kUnavailable);
    EXPECT_EQ(Serving(*m), 1);
  }
}

TEST_F(ModelManagerTest, ExplicitStartupLoadsOnlyNamedModels) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  std::string n_config = kConfig;
  n_config.replace(n_config.find("\"m\""), 3, "\"n\"");
  tree_.File("n/config.pbtxt", n_config);
  tree_.Dir("n/1");
  auto m = Start(ModelControlMode::kExplicit, {"m"});
  EXPECT_TRUE(m->RequiredModelsReady());
  EXPECT_EQ(Rows(*m), (std::vector<std::string>{"m:1:READY"}));
  EXPECT_EQ(m->ListRepository(), (std::vector<std::string>{"m", "n"}));
  auto missing = Start(ModelControlMode::kExplicit, {"m", "absent"});
  EXPECT_FALSE(missing->RequiredModelsReady());
}

TEST_F(ModelManagerTest, VersionPolicyChangeIsHonouredOnReload) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  tree_.Dir("m/2");
  tree_.Dir("m/3");
  auto m = Start(ModelControlMode::kExplicit, {"m"});
  EXPECT_EQ(Rows(*m), (std::vector<std::string>{"m:3:READY"}));
  tree_.File("m/config.pbtxt",
             std::string(kConfig) + "version_policy { all { } }");
  ASSERT_TRUE(m->LoadFromApi("m", {}).ok());
  loader_.reaper.Drain();
  EXPECT_EQ(Rows(*m),
            (std::vector<std::string>{"m:1:READY", "m:2:READY", "m:3:READY"}));
}

TEST_F(ModelManagerTest, UploadedFilesLoadFromAPrivateDirectory) {
  auto m = Start(ModelControlMode::kExplicit);
  LoadRequest upload;
  upload.config_json = JsonConfig();
  upload.files = {{"3/weights.bin", "abc"}};
  ASSERT_TRUE(m->LoadFromApi("m", upload).ok());
  EXPECT_EQ(Serving(*m), 3);
  EXPECT_FALSE(std::filesystem::exists(tree_.root() / "m"));
  upload.files = {{"3/../../escape", "abc"}};
  EXPECT_EQ(m->LoadFromApi("m", upload).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Serving(*m), 3);
}

TEST_F(ModelManagerTest, PollerWaitsForTwoEqualScans) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  ModelManager m(Options(ModelControlMode::kPoll));
  RepositoryPoller poller(&m, std::chrono::hours(1));  // driven by hand
  poller.Prime();
  ASSERT_TRUE(m.LoadAll().ok());
  poller.PollOnce();
  EXPECT_EQ(Serving(m), 1);

  tree_.Dir("m/2");
  poller.PollOnce();  // first sight of the change: settling
  EXPECT_EQ(Serving(m), 1);
  poller.PollOnce();  // stable: reloaded
  EXPECT_EQ(Serving(m), 2);

  std::filesystem::remove_all(tree_.root() / "m");
  poller.PollOnce();
  EXPECT_EQ(m.Get("m", -1).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ModelManagerTest, RequestsResolveThroughThePublishedSnapshot) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  auto m = Start(ModelControlMode::kExplicit, {"m"});
  // A snapshot taken before a reload keeps answering as it was.
  std::shared_ptr<const ServingMap> before = m->Serving();
  tree_.Dir("m/2");
  ASSERT_TRUE(m->LoadFromApi("m", {}).ok());
  EXPECT_EQ((*before->Get("m", -1))->version(), 1);
  EXPECT_EQ((*m->Serving()->Get("m", -1))->version(), 2);
  EXPECT_EQ(m->Serving()->Get("m", 1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(m->Serving()->Get("x", -1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(m->AllReady().size(), 1u);
}

TEST_F(ModelManagerTest, IndexReadsMemoryAndListRepositoryScans) {
  tree_.File("m/config.pbtxt", kConfig);
  tree_.Dir("m/1");
  auto m = Start(ModelControlMode::kExplicit);
  EXPECT_TRUE(m->Index().empty());  // nothing loaded yet
  EXPECT_EQ(m->ListRepository(), (std::vector<std::string>{"m"}));
}

}  // namespace
}  // namespace serval

namespace serval {
namespace {

TEST(ServingMapTest, AModelWhoseVersionIsLoadingIsUnavailableNotGone) {
  absl::flat_hash_map<std::string, ServingMap::Model> models;
  models["loading"].known = {1};
  models["loading"].loading = true;
  models["unloaded"].known = {1};
  models["unloaded"].problem = "unloaded";
  const ServingMap map(std::move(models));
  auto loading = map.Get("loading", -1);
  EXPECT_EQ(loading.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(loading.status().message().find("a version is loading"),
            std::string::npos);
  // Triton's answer for a model with nothing ready and nothing coming.
  EXPECT_EQ(map.Get("unloaded", -1).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(map.Get("never", -1).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace serval
