#include "tenants/tenant_limits.hpp"

#include <rapidjson/document.h>

#include <algorithm>

namespace parley::server {

namespace {

using protocol::Error;
using protocol::ErrorCode;

Error bad(std::string message) { return Error{ErrorCode::bad_request, std::move(message), ""}; }

protocol::Result<TenantLimits> limits_of(const rapidjson::Value& v, const std::string& where) {
  if (!v.IsObject()) return bad(where + " must be an object");
  TenantLimits out;
  for (const auto& m : v.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    std::uint32_t* field = key == "maxConnections"      ? &out.max_connections
                           : key == "messagesPerSecond" ? &out.messages_per_second
                           : key == "maxRooms"          ? &out.max_rooms
                                                        : nullptr;
    if (!field) return bad(where + "." + key + " is not a limit (maxConnections, messagesPerSecond, maxRooms)");
    if (!m.value.IsUint() || m.value.GetUint() > 100'000'000) {
      return bad(where + "." + key + " must be a whole number from 0 (no limit) to 100000000");
    }
    *field = m.value.GetUint();
  }
  return out;
}

}  // namespace

TenantLimits TenantLimitsFile::for_tenant(std::string_view name) const {
  for (const auto& [tenant, limits] : named) {
    if (tenant == name) return limits;
  }
  return others;
}

std::optional<std::string> check_tenant_name(std::string_view name) {
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; };
  if (name.empty() || name.size() > 64 || name[0] == '_' || name[0] == '-' ||
      !std::all_of(name.begin(), name.end(), ok)) {
    return "1-64 of a-z, 0-9, _ and -, starting with a letter or a digit";
  }
  return std::nullopt;
}

protocol::Result<TenantLimitsFile> parse_tenant_limits(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return bad("not a JSON object of tenants");
  TenantLimitsFile out;
  for (const auto& m : doc.GetObject()) {
    std::string name(m.name.GetString(), m.name.GetStringLength());
    if (name != "*") {
      if (auto why = check_tenant_name(name)) return bad("tenant \"" + name.substr(0, 64) + "\": " + *why);
    }
    auto limits = limits_of(m.value, name);
    if (!limits) return limits.error();
    if (name == "*") {
      out.others = limits.value();
    } else {
      out.named.emplace_back(name, limits.value());
    }
  }
  return out;
}

protocol::Result<TenantLimits> parse_one_tenant_limits(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) return bad("not JSON");
  return limits_of(doc, "the body");
}

std::string to_json(const TenantLimits& l) {
  return "{\"maxConnections\":" + std::to_string(l.max_connections) +
         ",\"messagesPerSecond\":" + std::to_string(l.messages_per_second) +
         ",\"maxRooms\":" + std::to_string(l.max_rooms) + "}";
}

}  // namespace parley::server
