// Structured logs: one line per event on stderr, logfmt style
//   ts=2026-11-22T02:34:52.123Z level=info msg=listening port=8787
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace parley::server::log {

enum class Level { debug, info, warn, error };

void set_level(Level level);
bool parse_level(std::string_view name, Level& out);

using Field = std::pair<std::string_view, std::string>;
void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void debug(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::debug, msg, f); }
inline void info(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::info, msg, f); }
inline void warn(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::warn, msg, f); }
inline void error(std::string_view msg, std::initializer_list<Field> f = {}) { write(Level::error, msg, f); }

}  // namespace parley::server::log
