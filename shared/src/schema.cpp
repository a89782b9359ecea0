// valijson over the embedded schemas. valijson and its rapidjson adapter stay
// in this file.
#include "parley/protocol/schema.hpp"

// valijson's adapter must come before any rapidjson header.
#include <valijson/adapters/rapidjson_adapter.hpp>
// clang-format off
#include <map>
#include <memory>
#include <string>
// clang-format on
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "schema_texts.hpp"

namespace parley::protocol {
namespace {

constexpr unsigned kParseFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;

std::unique_ptr<rapidjson::Document> parse_schema(std::string_view name, std::string_view text) {
  auto doc = std::make_unique<rapidjson::Document>();
  doc->Parse<kParseFlags>(text.data(), text.size());
  if (doc->HasParseError()) throw std::runtime_error("schema " + std::string(name) + " is not valid JSON");
  return doc;
}

// One compiled schema per frame type and direction, built once.
class Schemas {
 public:
  Schemas() {
    for (const auto& s : detail::schema_texts()) docs_.emplace(std::string(s.name), parse_schema(s.name, s.text));
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    auto fetch = [this](const std::string& uri) -> const rapidjson::Document* {
      // Frame schemas refer to "../common.schema.json"; refs are resolved by file name.
      auto slash = uri.find_last_of('/');
      auto it = docs_.find(slash == std::string::npos ? uri : uri.substr(slash + 1));
      if (it == docs_.end()) throw std::runtime_error("schema $ref to unknown document " + uri);
      auto copy = new rapidjson::Document();
      copy->CopyFrom(*it->second, copy->GetAllocator());
      return copy;
    };
    auto free = [](const rapidjson::Document* d) { delete d; };
    for (const auto& [name, doc] : docs_) {
      std::string key;
      if (name.rfind("client/", 0) == 0) key = "c2s/";
      if (name.rfind("server/", 0) == 0) key = "s2c/";
      if (key.empty()) continue;
      key += name.substr(7, name.size() - 7 - std::string_view(".schema.json").size());
      auto& schema = schemas_[key];
      schema = std::make_unique<valijson::Schema>();
      valijson::adapters::RapidJsonAdapter adapter(*doc);
      parser.populateSchema(adapter, *schema, fetch, free);
    }
  }

  const valijson::Schema* find(const std::string& key) const {
    auto it = schemas_.find(key);
    return it == schemas_.end() ? nullptr : it->second.get();
  }

 private:
  std::map<std::string, std::unique_ptr<rapidjson::Document>> docs_;
  std::map<std::string, std::unique_ptr<valijson::Schema>> schemas_;
};

const Schemas& schemas() {
  static const Schemas instance;
  return instance;
}

// valijson context ["<root>", "[message]", "[content]"] -> "/message/content".
std::string pointer_of(const std::vector<std::string>& context) {
  std::string out;
  for (const auto& part : context) {
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']') out += "/" + part.substr(1, part.size() - 2);
  }
  return out;
}

std::string quoted_name(const std::string& description) {
  auto end = description.rfind('\'');
  auto begin = end == std::string::npos ? end : description.rfind('\'', end - 1);
  return begin == std::string::npos ? std::string() : description.substr(begin + 1, end - begin - 1);
}

Error to_error(const valijson::ValidationResults::Error& e) {
  std::string path = pointer_of(e.context);
  const std::string& d = e.description;
  // Errors about a member name belong to that member.
  if (d.rfind("Missing required property", 0) == 0 || d.rfind("Object contains a property", 0) == 0) {
    path += "/" + quoted_name(d);
  }
  bool too_large = d.find("no more than") != std::string::npos;
  return Error{too_large ? ErrorCode::too_large : ErrorCode::bad_request,
               (path.empty() ? std::string("the frame") : "`" + path + "`") + ": " + d, path};
}

}  // namespace

std::optional<Error> validate_json_frame(std::string_view json_text, Direction direction) {
  rapidjson::Document doc;
  doc.Parse<kParseFlags>(json_text.data(), json_text.size());
  if (doc.HasParseError()) return Error{ErrorCode::bad_request, "the frame is not valid JSON", ""};
  if (!doc.IsObject()) return Error{ErrorCode::bad_request, "the frame must be a JSON object", ""};
  auto type = doc.FindMember("type");
  if (type == doc.MemberEnd()) return Error{ErrorCode::bad_request, "`/type` is required", "/type"};
  if (!type->value.IsString()) return Error{ErrorCode::bad_request, "`/type` must be a string", "/type"};
  std::string key = direction == Direction::client_to_server ? "c2s/" : "s2c/";
  key.append(type->value.GetString(), type->value.GetStringLength());
  const valijson::Schema* schema = schemas().find(key);
  if (!schema) return Error{ErrorCode::bad_request, "`/type` is not a known frame type", "/type"};

  // One validator per thread: it caches compiled `pattern` regexes.
  thread_local valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::RapidJsonAdapter adapter(doc);
  if (validator.validate(*schema, adapter, &results)) return std::nullopt;

  // The deepest error is the most specific one; its parents only repeat it.
  valijson::ValidationResults::Error best;
  bool have = false;
  valijson::ValidationResults::Error e;
  while (results.popError(e)) {
    if (!have || e.context.size() > best.context.size()) {
      best = e;
      have = true;
    }
  }
  return to_error(best);
}

}  // namespace parley::protocol
