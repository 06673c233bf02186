#define CAF_SUITE redis_client
#define FAIL(msg) CAF_FAIL(msg)
#include "caf/test/dsl.hpp"

#include <string>

#include "storage/redis_client.hpp"
#include "tests/storage/redis_test_support.hpp"

using namespace csp;
using namespace csp::storage;

namespace {

std::optional<redis_endpoint> parse(const std::string& url) {
  std::string error;
  auto ep = parse_redis_url(url, error);
  if (!ep)
    CAF_MESSAGE("rejected " << url << ": " << error);
  return ep;
}

struct fixture {
  std::string prefix = test::unique_prefix("client");
  redis_client client{test::redis_test_options()};

  fixture() {
    if (!client.connect())
      CAF_FAIL("test Redis unreachable: " << client.last_error());
  }

  ~fixture() { test::delete_prefix(client, prefix); }
};

} // namespace

CAF_TEST(URLs with host port password and db are parsed) {
  auto a = parse("redis://127.0.0.1:6380");
  CAF_REQUIRE(a);
  CAF_CHECK_EQUAL(a->host, "127.0.0.1");
  CAF_CHECK_EQUAL(a->port, 6380u);
  CAF_CHECK_EQUAL(a->password, "");
  CAF_CHECK_EQUAL(a->db, 0);
  auto b = parse("redis://:s%40cret/x@cache.local:7000/3");
  CAF_REQUIRE(b);
  CAF_CHECK_EQUAL(b->host, "cache.local");
  CAF_CHECK_EQUAL(b->port, 7000u);
  CAF_CHECK_EQUAL(b->password, "s@cret/x");
  CAF_CHECK_EQUAL(b->db, 3);
  auto c = parse("redis://localhost");
  CAF_REQUIRE(c);
  CAF_CHECK_EQUAL(c->port, 6379u);
  auto d = parse("redis://[::1]:6390/1");
  CAF_REQUIRE(d);
  CAF_CHECK_EQUAL(d->host, "::1");
  CAF_CHECK_EQUAL(d->port, 6390u);
  CAF_CHECK_EQUAL(d->db, 1);
}

CAF_TEST(every other URL form is rejected with a reason) {
  for (const char* url :
    {"", "127.0.0.1:6379", "http://127.0.0.1:6379", "rediss://host:6380",
      "redis://", "redis://:6379", "redis://host:", "redis://host:0",
      "redis://host:65536", "redis://host:12ab", "redis://user:pw@host",
      "redis://:@host", "redis://host/abc", "redis://host/-1",
      "redis://host?db=1", "redis://[::1", "redis://:pw%zz@host"}) {
    std::string error;
    CAF_CHECK(!parse_redis_url(url, error));
    CAF_CHECK(error.find("invalid Redis URL") == 0);
  }
  std::string error;
  parse_redis_url("rediss://host", error);
  CAF_CHECK(error.find("TLS") != std::string::npos);
}

CAF_TEST(a refused connection fails fast with a clear error) {
  auto port = test::free_port();
  redis_client c{test::loopback_options(port)};
  auto t0 = std::chrono::steady_clock::now();
  CAF_CHECK(!c.connect());
  CAF_CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds{1});
  CAF_CHECK(!c.connected());
  CAF_CHECK(c.last_error().find("127.0.0.1:" + std::to_string(port))
    != std::string::npos);
  CAF_CHECK(!c.command({"PING"}));
  CAF_CHECK(!c.last_error().empty());
  redis_pipeline p;
  p.cmd("PING");
  CAF_CHECK(!c.execute(p));
}

CAF_TEST_FIXTURE_SCOPE(redis_client_tests, fixture)

CAF_TEST(commands round trip binary - safe arguments) {
  auto key = prefix + "bin key with spaces";
  std::string value{"a\0b\r\n$3 %s", 10};
  auto set = client.command({"SET", key, value});
  CAF_REQUIRE(set);
  CAF_CHECK(set->is_status("OK"));
  auto get = client.command({"GET", key});
  CAF_REQUIRE(get);
  CAF_CHECK(get->is_string());
  CAF_CHECK_EQUAL(get->str, value);
  auto missing = client.command({"GET", prefix + "missing"});
  CAF_REQUIRE(missing);
  CAF_CHECK(missing->is_nil());
  auto n
    = client.command(std::vector<std::string>{"INCRBY", prefix + "n", "41"});
  CAF_REQUIRE(n);
  CAF_CHECK(n->is_integer());
  CAF_CHECK_EQUAL(n->integer, 41);
}

CAF_TEST(an error reply keeps the connection) {
  client.command({"SET", prefix + "s", "x"});
  auto r = client.command({"LPUSH", prefix + "s", "y"});
  CAF_REQUIRE(r);
  CAF_CHECK(r->is_error());
  CAF_CHECK(r->str.find("WRONGTYPE") == 0);
  CAF_CHECK(client.connected());
  auto pong = client.command({"PING"});
  CAF_REQUIRE(pong);
  CAF_CHECK(pong->is_status("PONG"));
}

CAF_TEST(a pipeline answers every command in order) {
  redis_pipeline p;
  for (std::int64_t i = 0; i < 1000; ++i)
    p.cmd("RPUSH").arg(prefix + "list").arg(i);
  p.cmd("LRANGE")
    .arg(prefix + "list")
    .arg(std::int64_t{0})
    .arg(std::int64_t{-1});
  p.cmd("NOSUCHCOMMAND");
  p.cmd("PING");
  CAF_CHECK_EQUAL(p.size(), 1003u);
  auto replies = client.execute(p);
  CAF_REQUIRE(replies);
  CAF_REQUIRE_EQUAL(replies->size(), 1003u);
  CAF_CHECK_EQUAL((*replies)[0].integer, 1);
  CAF_CHECK_EQUAL((*replies)[999].integer, 1000);
  const auto& range = (*replies)[1000];
  CAF_REQUIRE_EQUAL(range.elements.size(), 1000u);
  CAF_CHECK_EQUAL(range.elements[0].str, "0");
  CAF_CHECK_EQUAL(range.elements[999].str, "999");
  CAF_CHECK((*replies)[1001].is_error());
  CAF_CHECK(!range.contains_error());
  CAF_CHECK((*replies)[1002].is_status("PONG"));
  // A cleared pipeline is empty and reusable.
  p.clear();
  CAF_CHECK(p.empty());
  p.cmd("LLEN").arg(prefix + "list");
  replies = client.execute(p);
  CAF_REQUIRE(replies);
  CAF_CHECK_EQUAL(replies->at(0).integer, 1000);
}

CAF_TEST(a killed connection is reported and connect reconnects) {
  auto id = client.command({"CLIENT", "ID"});
  CAF_REQUIRE(id && id->is_integer());
  redis_client killer{test::redis_test_options()};
  CAF_REQUIRE(killer.connect());
  auto killed
    = killer.command({"CLIENT", "KILL", "ID", std::to_string(id->integer)});
  CAF_REQUIRE(killed);
  CAF_CHECK_EQUAL(killed->integer, 1);
  CAF_CHECK(!client.command({"PING"}));
  CAF_CHECK(!client.connected());
  CAF_CHECK(client.last_error().find("connection") != std::string::npos);
  CAF_REQUIRE(client.connect());
  auto pong = client.command({"PING"});
  CAF_REQUIRE(pong);
  CAF_CHECK(pong->is_status("PONG"));
}

CAF_TEST(a wrong password fails the connect) {
  auto opts = test::redis_test_options();
  opts.endpoint.password = "not-the-password";
  redis_client c{opts};
  CAF_CHECK(!c.connect());
  CAF_CHECK(c.last_error().find("AUTH") != std::string::npos);
  CAF_CHECK(!c.connected());
}

CAF_TEST(the db index of the URL is selected) {
  auto opts = test::redis_test_options();
  opts.endpoint.db = 5;
  redis_client c{opts};
  CAF_REQUIRE(c.connect());
  auto key = prefix + "db5";
  c.command({"SET", key, "here"});
  auto other_db = client.command({"GET", key});
  CAF_REQUIRE(other_db);
  CAF_CHECK(other_db->is_nil());
  auto same_db = c.command({"GET", key});
  CAF_REQUIRE(same_db);
  CAF_CHECK_EQUAL(same_db->str, "here");
  c.command({"DEL", key});
}

CAF_TEST_FIXTURE_SCOPE_END()
