// The bus's Redis client without a Redis: RESP in and out, Redis URLs, the
// reconnect schedule.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "bus/backoff.hpp"
#include "bus/redis_address.hpp"
#include "bus/resp.hpp"

namespace parley::server::redis {
namespace {

using namespace std::string_literals;
using Type = Reply::Type;

std::optional<Reply> parse_one(const std::string& bytes, ReaderLimits limits = {}) {
  Reader reader(limits);
  reader.feed(bytes.data(), bytes.size());
  return reader.next();
}

std::string reader_error(const std::string& bytes, ReaderLimits limits = {}) {
  Reader reader(limits);
  reader.feed(bytes.data(), bytes.size());
  EXPECT_FALSE(reader.next().has_value());
  return reader.error();
}

TEST(RespReader, EveryTypeFedByteByByte) {
  std::string bytes = "+OK\r\n-ERR bad\r\n:-42\r\n$-1\r\n$5\r\na\0\r\nb\r\n*-1\r\n*0\r\n"s;
  Reader reader;
  std::vector<Reply> replies;
  for (char c : bytes) {
    reader.feed(&c, 1);
    while (auto reply = reader.next()) replies.push_back(std::move(*reply));
  }
  ASSERT_TRUE(reader.error().empty()) << reader.error();
  ASSERT_EQ(replies.size(), 7u);
  EXPECT_EQ(replies[0].type, Type::status);
  EXPECT_EQ(replies[0].str, "OK");
  EXPECT_TRUE(replies[1].is_error());
  EXPECT_EQ(replies[1].str, "ERR bad");
  EXPECT_EQ(replies[2].type, Type::integer);
  EXPECT_EQ(replies[2].integer, -42);
  EXPECT_EQ(replies[3].type, Type::nil);
  EXPECT_EQ(replies[4].type, Type::string);
  EXPECT_EQ(replies[4].str, "a\0\r\nb"s);
  EXPECT_EQ(replies[5].type, Type::nil);
  EXPECT_EQ(replies[6].type, Type::array);
  EXPECT_TRUE(replies[6].elements.empty());
  EXPECT_FALSE(reader.next().has_value());
}

TEST(RespReader, NestedArraysFedInPieces) {
  // [[1, "two", nil], [], ["x", [3]]], then a status, split at awkward places.
  std::string bytes = "*3\r\n*3\r\n:1\r\n$3\r\ntwo\r\n$-1\r\n*0\r\n*2\r\n+x\r\n*1\r\n:3\r\n+NEXT\r\n";
  Reader reader;
  std::vector<Reply> replies;
  for (std::size_t at = 0; at < bytes.size(); at += 7) {
    reader.feed(bytes.data() + at, std::min<std::size_t>(7, bytes.size() - at));
    while (auto reply = reader.next()) replies.push_back(std::move(*reply));
  }
  ASSERT_EQ(replies.size(), 2u);
  const Reply& top = replies[0];
  ASSERT_EQ(top.type, Type::array);
  ASSERT_EQ(top.elements.size(), 3u);
  ASSERT_EQ(top.elements[0].elements.size(), 3u);
  EXPECT_EQ(top.elements[0].elements[0].integer, 1);
  EXPECT_EQ(top.elements[0].elements[1].str, "two");
  EXPECT_EQ(top.elements[0].elements[2].type, Type::nil);
  EXPECT_EQ(top.elements[1].type, Type::array);
  EXPECT_TRUE(top.elements[1].elements.empty());
  ASSERT_EQ(top.elements[2].elements.size(), 2u);
  EXPECT_EQ(top.elements[2].elements[0].type, Type::status);
  EXPECT_EQ(top.elements[2].elements[1].elements[0].integer, 3);
  EXPECT_EQ(replies[1].str, "NEXT");
}

TEST(RespReader, AWideArray) {
  std::string bytes = "*5000\r\n";
  for (int i = 0; i < 5000; ++i) bytes += ":" + std::to_string(i) + "\r\n";
  auto reply = parse_one(bytes);
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->elements.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(reply->elements[static_cast<std::size_t>(i)].integer, i);
}

TEST(RespReader, AProtocolErrorIsReportedOnceAndTheReaderStaysFailed) {
  Reader reader;
  std::string bytes = "+OK\r\n!what\r\n+LATER\r\n";
  reader.feed(bytes.data(), bytes.size());
  auto first = reader.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->str, "OK");
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_NE(reader.error(), "");
  std::string error = reader.error();
  reader.feed("+MORE\r\n", 7);
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_EQ(reader.error(), error);
}

TEST(RespReader, RefusesMalformedAndHostileReplies) {
  EXPECT_NE(reader_error(":12x\r\n"), "");  // not a number
  EXPECT_NE(reader_error("$abc\r\n"), "");  // not a length
  EXPECT_NE(reader_error("*-2\r\n"), "");   // a negative array length
  EXPECT_NE(reader_error("*2147483647\r\n"),
            "");  // an array that would never fit: refused before anything is allocated
  EXPECT_NE(reader_error("*99999999999999\r\n"), "");
  // Nesting deeper than hiredis's 7 levels.
  EXPECT_NE(reader_error("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"), "");
  // A partly built reply freed on an error (ASan checks the freeing).
  EXPECT_NE(reader_error("*3\r\n$3\r\nabc\r\n*2\r\n:1\r\n?\r\n"), "");
}

TEST(RespReader, LimitsTheSizeOfOneReply) {
  ReaderLimits small;
  small.max_pending_bytes = 1024;
  small.max_values = 100;
  // A bulk string announced bigger than the limit: refused once that much is waiting.
  Reader reader(small);
  std::string start = "$1000000\r\n";
  reader.feed(start.data(), start.size());
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_EQ(reader.error(), "");
  std::string chunk(600, 'x');
  reader.feed(chunk.data(), chunk.size());
  EXPECT_FALSE(reader.next().has_value());
  reader.feed(chunk.data(), chunk.size());
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_NE(reader.error(), "");
  // Too many values, declared or sent.
  EXPECT_NE(reader_error("*101\r\n", small), "");
  std::string nested = "*50\r\n";
  for (int i = 0; i < 50; ++i) nested += "*2\r\n:1\r\n:2\r\n";
  EXPECT_NE(reader_error(nested, small), "");
  // Within the limits: fine, also many replies in a row (the count is per reply).
  Reader many(small);
  std::string replies;
  for (int i = 0; i < 300; ++i) replies += "*2\r\n:1\r\n:2\r\n";
  many.feed(replies.data(), replies.size());
  int count = 0;
  while (many.next()) ++count;
  EXPECT_EQ(count, 300);
  EXPECT_EQ(many.error(), "");
}

TEST(RespFormat, BinarySafeArguments) {
  EXPECT_EQ(format_command({"SET", "k", "a\0\r\nb"s}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0\r\nb\r\n"s);
  EXPECT_EQ(format_command({"PING"}), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(format_command({"SET", "k", ""}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
  EXPECT_THROW(format_command({}), std::invalid_argument);
  // What format_command writes, the reader reads back (as an array of strings).
  std::string big(100000, 'z');
  std::string bytes = format_command({"A", big, "\r\n"});
  auto reply = parse_one(bytes);
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->elements.size(), 3u);
  EXPECT_EQ(reply->elements[1].str, big);
  EXPECT_EQ(reply->elements[2].str, "\r\n");
}

TEST(RedisAddress, ParsesTcpUrls) {
  Address a = Address::parse("redis://redis.internal");
  EXPECT_EQ(a.kind, Address::Kind::tcp);
  EXPECT_EQ(a.host, "redis.internal");
  EXPECT_EQ(a.port, 6379);
  EXPECT_EQ(a.password, "");
  EXPECT_EQ(a.db, 0);
  EXPECT_EQ(a.describe(), "redis://redis.internal:6379");

  a = Address::parse("redis://127.0.0.1:6380/");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 6380);

  a = Address::parse("redis://[::1]:7000/3");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 7000);
  EXPECT_EQ(a.db, 3);
  EXPECT_EQ(a.describe(), "redis://[::1]:7000/3");

  a = Address::parse("REDIS://h:65535");
  EXPECT_EQ(a.port, 65535);
}

TEST(RedisAddress, ParsesPasswordsAndKeepsThemOutOfDescribe) {
  Address a = Address::parse("redis://:s3cret@cache:6379");
  EXPECT_EQ(a.user, "");
  EXPECT_EQ(a.password, "s3cret");
  EXPECT_EQ(a.describe().find("s3cret"), std::string::npos);

  a = Address::parse("redis://bus:p%40ss%3Aw%2Frd@cache");
  EXPECT_EQ(a.user, "bus");
  EXPECT_EQ(a.password, "p@ss:w/rd");
  EXPECT_EQ(a.describe(), "redis://bus@cache:6379");
  EXPECT_EQ(a.describe().find("p@ss"), std::string::npos);

  a = Address::parse("redis+unix://:pw@/run/redis.sock");
  EXPECT_EQ(a.kind, Address::Kind::unix_socket);
  EXPECT_EQ(a.path, "/run/redis.sock");
  EXPECT_EQ(a.password, "pw");
  EXPECT_EQ(a.describe(), "redis+unix:///run/redis.sock");
}

TEST(RedisAddress, ParsesUnixUrls) {
  Address a = Address::parse("redis+unix:///var/run/redis/redis.sock");
  EXPECT_EQ(a.kind, Address::Kind::unix_socket);
  EXPECT_EQ(a.path, "/var/run/redis/redis.sock");
  EXPECT_EQ(a.describe(), "redis+unix:///var/run/redis/redis.sock");
  EXPECT_EQ(Address::parse("unix:///tmp/r.sock").path, "/tmp/r.sock");
}

TEST(RedisAddress, RefusesWhatItCannotUse) {
  for (const char* url : {
           "",
           "localhost:6379",           // no scheme
           "http://localhost:6379",    // not Redis
           "rediss://localhost:6379",  // TLS
           "redis://",                 // no host
           "redis://:6379",            // no host
           "redis://host:",            // empty port
           "redis://host:0",           // bad ports
           "redis://host:65536",
           "redis://host:80a",
           "redis://host:-1",
           "redis://host:6379/x",          // not a database
           "redis://host:6379?db=1",       // queries
           "redis://host name",            // bad host
           "redis://::1:6379",             // IPv6 without brackets
           "redis://[::1",                 // unclosed bracket
           "redis://user@host",            // a user without a password
           "redis://:@host",               // an empty password
           "redis://:p%4@host",            // a bad escape
           "redis+unix://",                // empty path
           "redis+unix:///",               // empty path
           "unix://",                      // empty path
           "redis+unix://host/path.sock",  // a host in a Unix URL
           "redis+unix://relative.sock",   // not absolute
       }) {
    EXPECT_THROW(Address::parse(url), std::invalid_argument) << url;
  }
  std::string long_path = "redis+unix:///" + std::string(200, 'a');
  EXPECT_THROW(Address::parse(long_path), std::invalid_argument);
}

TEST(RedisAddress, ARefusalNeverShowsThePassword) {
  for (const char* url : {"redis://user:hunter2@host:99999", "redis://:hunter2@", "redis://u:hun/ter2@host",
                          "redis://:hunter2@host:6379/x", "rediss://:hunter2@host"}) {
    try {
      Address::parse(url);
      ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("hun"), std::string::npos) << e.what();
    }
  }
}

TEST(RedisBackoff, DoublesFromFiftyMillisecondsToOneSecondWithJitter) {
  using std::chrono::milliseconds;
  const milliseconds first(50), cap(1000);
  EXPECT_EQ(reconnect_delay(0, 0.0, first, cap), milliseconds(25));
  EXPECT_EQ(reconnect_delay(0, 0.999, first, cap), milliseconds(49));
  EXPECT_EQ(reconnect_delay(1, 0.0, first, cap), milliseconds(50));
  EXPECT_EQ(reconnect_delay(2, 0.5, first, cap), milliseconds(150));
  for (unsigned failures : {5u, 6u, 10u, 63u, 4000000000u}) {
    EXPECT_GE(reconnect_delay(failures, 0.0, first, cap), milliseconds(500));
    EXPECT_LE(reconnect_delay(failures, 0.999, first, cap), cap);
  }
}

}  // namespace
}  // namespace parley::server::redis
