#include "config/config_json.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace serval {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

bool Is64BitInteger(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

// The proto JSON mapping writes 64-bit integers as strings; turn one back
// into a number. Values that are not decimal integers are left alone.
void StringToNumber(bool is_signed, rapidjson::Value* value) {
  if (!value->IsString()) return;
  const absl::string_view text(value->GetString(), value->GetStringLength());
  if (is_signed) {
    int64_t number = 0;
    if (absl::SimpleAtoi(text, &number)) value->SetInt64(number);
  } else {
    uint64_t number = 0;
    if (absl::SimpleAtoi(text, &number)) value->SetUint64(number);
  }
}

void FixMessage(const Descriptor& descriptor, rapidjson::Value* object);

// `value` is what the JSON holds for `field` (one element of it when the
// field is repeated).
void FixValue(const FieldDescriptor& field, rapidjson::Value* value) {
  if (Is64BitInteger(field)) {
    StringToNumber(field.cpp_type() == FieldDescriptor::CPPTYPE_INT64, value);
  } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    FixMessage(*field.message_type(), value);
  }
}

void FixMessage(const Descriptor& descriptor, rapidjson::Value* object) {
  if (!object->IsObject()) return;
  for (auto& member : object->GetObject()) {
    const FieldDescriptor* field =
        descriptor.FindFieldByName(member.name.GetString());
    if (field == nullptr) continue;
    if (field->is_map()) {
      // Keys stay strings (JSON object keys); only values may need fixing.
      const FieldDescriptor* map_value =
          field->message_type()->FindFieldByName("value");
      if (!member.value.IsObject()) continue;
      for (auto& entry : member.value.GetObject()) {
        FixValue(*map_value, &entry.value);
      }
    } else if (field->is_repeated()) {
      if (!member.value.IsArray()) continue;
      for (auto& element : member.value.GetArray()) FixValue(*field, &element);
    } else {
      FixValue(*field, &member.value);
    }
  }
}

}  // namespace

absl::StatusOr<std::string> ModelConfigToJson(
    const inference::ModelConfig& config) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(config, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat(
        "model '", config.name(), "': cannot render configuration as JSON: ",
        status.message().ToString()));
  }
  // Triton's HTTP /config shows dims and other 64-bit fields as numbers
  // ("dims":[-1,3]); clients index into them as numbers, so do the same.
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError()) {
    return absl::InternalError(absl::StrCat(
        "model '", config.name(), "': protobuf produced unparsable JSON"));
  }
  FixMessage(*inference::ModelConfig::descriptor(), &document);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  document.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::StatusOr<inference::ModelConfig> ModelConfigFromJson(
    std::string_view json, std::string_view what) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  inference::ModelConfig config;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &config,
      options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(what),
        ": not a valid model configuration: ", status.message().ToString()));
  }
  return config;
}

}  // namespace serval
