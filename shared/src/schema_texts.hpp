// The schema files of shared/schemas/, embedded at build time (schemas.gen.cpp).
#pragma once

#include <string_view>
#include <vector>

namespace parley::protocol::detail {

struct SchemaText {
  std::string_view name;  // path under shared/schemas/, e.g. "client/send.schema.json"
  std::string_view text;
};

const std::vector<SchemaText>& schema_texts();

}  // namespace parley::protocol::detail
