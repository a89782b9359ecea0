// parleyd's command line, run as a user runs it: every flag or variable it
// cannot use stops it at start with exit code 2 and a message naming the
// flag and what is wrong; --version and --help answer and exit; the secret
// can come from a file; the public development secret is refused on an
// address other machines can reach unless the user says so. Each parleyd
// that starts is checked to serve a client.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "config.hpp"
#include "support/parleyd_process.hpp"
#include "support/raw_ws.hpp"
#include "support/test_client.hpp"

namespace parley::test {
namespace {

using Outcome = ParleydOutcome;

// Runs parleyd to its end (for command lines that must not start it), on a
// port and store that cannot get in the way.
Outcome run_parleyd_here(const std::string& env, const std::string& args) {
  return run_parleyd(env, "--port 0 --storage memory " + args);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

struct Refusal {
  std::string env, args, message;
};

void expect_refused(const std::vector<Refusal>& cases) {
  for (const auto& c : cases) {
    Outcome r = run_parleyd_here(c.env, c.args);
    EXPECT_EQ(r.exit_code, 2) << c.env << " " << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.rfind("parleyd: ", 0), 0u) << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.env << " " << c.args << "\n" << r.output;
  }
}

TEST(CommandLine, RefusesUnknownFlagsAndBadValuesWithAClearMessage) {
  expect_refused({
      {"", "--max-conections 10", "unknown option --max-conections"},
      {"", "-p 80", "unknown option -p"},
      {"", "8787", "unexpected argument 8787 (options start with --)"},
      {"", "--threads", "missing value for --threads"},
      {"", "--storage-threads -1", "bad value for --storage-threads: -1"},
      {"", "--storage-threads 257", "bad value for --storage-threads: 257"},
      {"", "--storage-threads many", "bad value for --storage-threads: many"},
      {"", "--port=70000", "bad value for --port: 70000"},
      {"", "--port -1", "bad value for --port: -1"},
      {"", "--port 99999999999999999999999", "bad value for --port"},
      {"", "--host chat.example.com", "bad value for --host: chat.example.com: an IPv4 or IPv6 address"},
      {"", "--host ''", "bad value for --host"},
      {"", "--log-level loud", "bad value for --log-level: loud: debug, info, warn or error"},
      {"PARLEY_LOG_LEVEL=trace", "", "bad value in the environment: PARLEY_LOG_LEVEL=trace"},
      {"", "--storage postgres", "bad value for --storage: postgres"},
      {"", "--rate-messages 0", "bad value for --rate-messages"},
      {"", "--rate-reactions 0", "bad value for --rate-reactions"},
      {"", "--rate-reactions 5/-1", "bad value for --rate-reactions"},
      {"", "--user-rate-reactions lots", "bad value for --user-rate-reactions"},
      {"PARLEY_RATE_REACTIONS=1e400", "", "bad value in the environment: PARLEY_RATE_REACTIONS"},
      {"", "--max-queue-bytes 10", "bad value for --max-queue-bytes"},
      {"", "--allow-dev-secret=maybe", "bad value for --allow-dev-secret: maybe"},
      {"", "--jwt-secret ''", "bad value for --jwt-secret: : empty"},
      {"", std::string("--threads ") + std::string(10000, '9'), "bad value for --threads"},
      // The edge's flags (docs/security.md).
      {"", "--trusted-proxies 10.0.0.0/33", "bad value for --trusted-proxies: 10.0.0.0/33: the prefix length"},
      {"", "--trusted-proxies 10.0.0.1/8", "did you mean 10.0.0.0/8?"},
      {"", "--trusted-proxies 'proxy.internal'", "not an IPv4 or IPv6 address: proxy.internal"},
      {"", "--trusted-proxies '10.0.0.0/8,,::1'", "an empty entry"},
      {"PARLEY_TRUSTED_PROXIES=2001:db8::/200", "",
       "bad value in the environment: PARLEY_TRUSTED_PROXIES=2001:db8::/200: the prefix length"},
      {"", "--allowed-origins https://chat.example.com/", "no path"},
      {"", "--allowed-origins chat.example.com", "scheme://host"},
      {"", "--allowed-origins 'https://a.*.example.com'", "not a host name"},
      {"", "--allowed-origins=", "bad value for --allowed-origins"},
      {"PARLEY_ALLOWED_ORIGINS='https://ok.example,ftp//bad'", "", "PARLEY_ALLOWED_ORIGINS"},
      {"", "--proxy-header x-real-ip", "x-forwarded-for or forwarded"},
      {"", "--max-handshakes-per-ip 0", "at least 1"},
      {"", "--max-handshakes-per-ip many", "bad value for --max-handshakes-per-ip"},
      {"", "--bus http://127.0.0.1:6379", "bad value for --bus: http://127.0.0.1:6379"},
      {"", "--bus redis://", "bad value for --bus: redis://: bad Redis URL: no host"},
      {"", "--bus redis://127.0.0.1:99999", "bad value for --bus"},
      {"", "--bus redis+unix://relative/redis.sock", "bad value for --bus"},
      {"", "--bus redis://" + std::string(5000, 'h'), "bad value for --bus"},
      {"", "--bus redis://127.0.0.1:6379 --storage memory", "--bus joins nodes that share their storage"},
      {"", "--bus redis://127.0.0.1:6379 --storage sqlite --storage-threads 0", "--bus needs storage threads"},
  });
}

TEST(CommandLine, NeverPrintsTheBusPassword) {
  ParleydOutcome out = run_parleyd("", "--bus 'redis://:hunter2@127.0.0.1:99999'");
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.output.find("bad value for --bus"), std::string::npos) << out.output;
  EXPECT_EQ(out.output.find("hunter2"), std::string::npos) << out.output;
}

TEST(CommandLine, VersionAndHelpAnswerAndExit) {
  Outcome version = run_parleyd_here("", "--version");
  EXPECT_EQ(version.exit_code, 0) << version.output;
  EXPECT_EQ(version.output, std::string("parleyd ") + PARLEY_VERSION + " (protocol parley.v1)\n");
  Outcome help = run_parleyd_here("", "--help");
  EXPECT_EQ(help.exit_code, 0) << help.output;
  for (const char* flag : {"--jwt-secret-file <v>", "--allow-dev-secret ", "--version", "[PARLEY_JWT_SECRET_FILE]"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag << "\n" << help.output;
  }
}

TEST(CommandLine, ReadsTheSecretFromAFileAndRefusesFilesItCannotUse) {
  TempDir dir;
  const std::string secret = "a-secret-from-a-mounted-file-0123456789";
  const std::string good = dir.path() + "/secret";
  write_file(good, secret + "\n");
  {
    ParleydProcess server({"--jwt-secret-file", good});
    TestClient alice(server.port(), "alice", token_for("alice", "Alice", secret));
    EXPECT_TRUE(alice.next("welcome").IsObject()) << server.log();
    // The newline is not part of the secret, and the test secret is not it.
    TestClient with_newline(server.port(), "bob", token_for("bob", "Bob", secret + "\n"));
    EXPECT_EQ(with_newline.wait_closed(), 4001);
    TestClient other(server.port(), "carol", token_for("carol", "Carol"));
    EXPECT_EQ(other.wait_closed(), 4001);
    EXPECT_EQ(server.log().find(secret), std::string::npos) << "the secret was logged";
  }

  write_file(dir.path() + "/empty", "");
  write_file(dir.path() + "/newline", "\n");
  write_file(dir.path() + "/huge", std::string(64 * 1024 + 1, 'k'));
  ASSERT_EQ(mkfifo((dir.path() + "/fifo").c_str(), 0600), 0);
  expect_refused({
      {"", "--jwt-secret-file " + dir.path() + "/missing",
       "bad value for --jwt-secret-file: " + dir.path() + "/missing: No such file or directory"},
      {"", "--jwt-secret-file " + dir.path() + "/empty", "the file is empty"},
      {"", "--jwt-secret-file " + dir.path() + "/newline", "the file is empty"},
      {"", "--jwt-secret-file " + dir.path() + "/huge", "larger than 64 KiB"},
      {"", "--jwt-secret-file " + dir.path(), "not a regular file"},
      {"", "--jwt-secret-file " + dir.path() + "/fifo", "not a regular file"},  // and no wait for a writer
      {"", "--jwt-secret-file /dev/zero", "not a regular file"},
      {"PARLEY_JWT_SECRET_FILE=" + dir.path() + "/missing", "",
       "bad value in the environment: PARLEY_JWT_SECRET_FILE="},
      {"", "--jwt-secret x --jwt-secret-file " + good, "both --jwt-secret and --jwt-secret-file are set"},
      {"PARLEY_JWT_SECRET=x", "--jwt-secret-file " + good, "both --jwt-secret and --jwt-secret-file are set"},
  });
}

TEST(CommandLine, RequestsRunInlineOrOnAsManyStorageThreadsAsAsked) {
  for (const char* threads : {"0", "1", "256"}) {
    ParleydProcess server({"--storage-threads", threads});
    EXPECT_FALSE(check_served(server.port())) << "--storage-threads " << threads;
  }
}

TEST(CommandLine, ReadsTenantLimitsFromAFileAndRefusesABadOne) {
  TempDir dir;
  std::string good = dir.path() + "/tenants.json";
  write_file(good, R"({"acme": {"maxConnections": 1}})");
  {
    ParleydProcess server({"--tenants-file", good});
    TestClient first(server.port(), "alice", token_with_claims(R"({"sub":"alice","exp":4102444800,"tenant":"acme"})"));
    ASSERT_TRUE(first.next("welcome").IsObject());
    TestClient second(server.port(), "bob", token_with_claims(R"({"sub":"bob","exp":4102444800,"tenant":"acme"})"));
    EXPECT_EQ(second.wait_closed(), 1013) << "the file's limit holds";
  }
  write_file(dir.path() + "/broken", "{\"acme\": {\"maxRooms\": \"many\"}}");
  write_file(dir.path() + "/name", "{\"ACME\": {}}");
  write_file(dir.path() + "/huge", std::string(1024 * 1024 + 1, ' '));
  expect_refused({
      {"", "--tenants-file " + dir.path() + "/missing", "bad value for --tenants-file: " + dir.path() + "/missing"},
      {"", "--tenants-file " + dir.path() + "/broken", "acme.maxRooms must be a whole number"},
      {"", "--tenants-file " + dir.path() + "/name", "tenant \"ACME\": 1-64 of a-z"},
      {"", "--tenants-file " + dir.path() + "/huge", "larger than 1024 KiB"},
      {"", "--tenants-file " + dir.path(), "not a regular file"},
      {"PARLEY_TENANTS_FILE=" + dir.path() + "/broken", "", "bad value in the environment: PARLEY_TENANTS_FILE="},
  });
}

TEST(CommandLine, TheDevelopmentSecretStaysOnLoopbackUnlessAllowed) {
  for (const char* host : {"0.0.0.0", "::", "192.0.2.1"}) {
    expect_refused({{"", std::string("--host ") + host,
                     std::string("no --jwt-secret or --jwt-secret-file, and --host ") + host +
                         " is reachable from other machines"}});
  }
  {
    // Loopback in any spelling runs on it, with the warning.
    ParleydProcess local({"--host", "127.0.0.2", "--allow-dev-secret=false"});
    EXPECT_NE(local.log().find("NO JWT SECRET CONFIGURED"), std::string::npos) << local.log();
  }
  ParleydProcess demo({"--host", "0.0.0.0", "--allow-dev-secret"});
  EXPECT_NE(demo.log().find("NO JWT SECRET CONFIGURED"), std::string::npos) << demo.log();
  TestClient alice(demo.port(), "alice", token_for("alice", "Alice", server::kDevJwtSecret));
  EXPECT_TRUE(alice.next("welcome").IsObject()) << demo.log();
}

}  // namespace
}  // namespace parley::test
