#define CAF_SUITE storage.spool
#include "caf/test/unit_test.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include "storage/spool.hpp"

using namespace csp;
using namespace csp::storage;

namespace {

copy_batch make_batch(table_kind t, int rows, int tag) {
  copy_batch b;
  b.table = t;
  b.format = copy_format::text;
  for (int i = 0; i < rows; ++i)
    b.rows
      += "row " + std::to_string(tag) + "." + std::to_string(i) + "\t\\N\n";
  b.row_count = static_cast<std::size_t>(rows);
  b.min_time_ms = tag * 1000;
  b.max_time_ms = tag * 1000 + rows;
  return b;
}

struct fixture {
  std::string path = "/tmp/csp_spool_test_" + std::to_string(::getpid());
  fixture() { cleanup(); }
  ~fixture() { cleanup(); }
  void cleanup() {
    std::remove(path.c_str());
    std::remove((path + ".offset").c_str());
    std::remove((path + ".damaged").c_str());
  }
  long file_size() {
    std::ifstream in{path, std::ios::binary | std::ios::ate};
    return static_cast<long>(in.tellg());
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(spool_tests, fixture)

CAF_TEST(batches come back in order and byte for byte) {
  spool s{path};
  CAF_CHECK(!s.has_pending());
  CAF_CHECK(!s.front().has_value());
  auto a = make_batch(table_kind::candles, 3, 1);
  auto b = make_batch(table_kind::trades, 1000, 2);
  auto c = make_batch(table_kind::data_quality, 1, 3);
  auto d = make_batch(table_kind::trades_by_id, 2, 4);
  s.append(a);
  s.append(b);
  s.append(c);
  s.append(d);
  CAF_CHECK_EQUAL(s.pending(), 4u);
  CAF_CHECK_EQUAL(s.pending_rows(), 1006u);
  CAF_CHECK(s.front() == a);
  CAF_CHECK(s.front() == a); // front does not consume
  s.pop();
  CAF_CHECK(s.front() == b);
  s.pop();
  CAF_CHECK_EQUAL(s.pending_rows(), 3u);
  CAF_CHECK(s.front() == c);
  s.pop();
  CAF_CHECK(s.front() == d); // trades with symbol ids keep their kind
  s.pop();
  CAF_CHECK(!s.has_pending());
  CAF_CHECK_EQUAL(file_size(), 8); // truncated to the header
}

CAF_TEST(binary rows keep their format and older text records read as text) {
  // A record as spools before binary COPY wrote it: body = table byte 1
  // (candles, no format bit), row count 1, min and max time 7, one text row.
  std::string body{"\x01", 1};
  for (std::uint64_t x : {1u, 7u, 7u})
    for (int i = 0; i < 8; ++i)
      body += static_cast<char>((x >> (8 * i)) & 0xff);
  body += "old\t\\N\n";
  std::string file{"CSPSPOOL"};
  auto put32 = [&file](std::uint32_t x) {
    for (int i = 0; i < 4; ++i)
      file += static_cast<char>((x >> (8 * i)) & 0xff);
  };
  put32(static_cast<std::uint32_t>(body.size()));
  put32(crc32(body.data(), body.size()));
  file += body;
  std::ofstream{path, std::ios::binary} << file;
  copy_batch bin;
  bin.table = table_kind::trades;
  bin.rows = std::string{"\x00\x01\xff\xff\xff\xff", 6};
  bin.row_count = 1;
  {
    spool s{path};
    CAF_REQUIRE_EQUAL(s.pending(), 1u);
    s.append(bin);
  }
  spool s{path};
  CAF_REQUIRE_EQUAL(s.pending(), 2u);
  auto old = s.front();
  CAF_REQUIRE(old.has_value());
  CAF_CHECK(old->format == copy_format::text);
  CAF_CHECK(old->table == table_kind::candles);
  CAF_CHECK_EQUAL(old->rows, "old\t\\N\n");
  s.pop();
  auto back = s.front();
  CAF_REQUIRE(back.has_value());
  CAF_CHECK(back->format == copy_format::binary);
  CAF_CHECK(*back == bin);
}

CAF_TEST(a reopened spool resumes after the replayed records) {
  auto a = make_batch(table_kind::candles, 2, 1);
  auto b = make_batch(table_kind::indicators, 2, 2);
  auto c = make_batch(table_kind::candles, 2, 3);
  {
    spool s{path};
    s.append(a);
    s.append(b);
    s.append(c);
    s.pop(); // a replayed
  }
  spool s{path};
  CAF_CHECK_EQUAL(s.pending(), 2u);
  CAF_CHECK(s.front() == b);
  s.pop();
  s.pop();
  auto d = make_batch(table_kind::trades, 5, 4);
  s.append(d);
  spool again{path};
  CAF_CHECK_EQUAL(again.pending(), 1u);
  CAF_CHECK(again.front() == d);
}

CAF_TEST(a torn tail is cut off and appends continue) {
  auto a = make_batch(table_kind::candles, 2, 1);
  auto b = make_batch(table_kind::candles, 2, 2);
  {
    spool s{path};
    s.append(a);
    s.append(b);
  }
  // A crash in the middle of the second record's write.
  auto full = file_size();
  CAF_REQUIRE_EQUAL(::truncate(path.c_str(), full - 5), 0);
  spool s{path};
  CAF_CHECK_EQUAL(s.torn_records(), 1u);
  CAF_CHECK_EQUAL(s.pending(), 1u);
  CAF_CHECK(s.front() == a);
  auto c = make_batch(table_kind::trades, 1, 3);
  s.append(c);
  spool again{path};
  CAF_CHECK_EQUAL(again.torn_records(), 0u);
  CAF_CHECK_EQUAL(again.pending(), 2u);
  again.pop();
  CAF_CHECK(again.front() == c);
}

CAF_TEST(a damaged record is not replayed and its bytes are kept aside) {
  {
    spool s{path};
    s.append(make_batch(table_kind::candles, 2, 1));
    s.append(make_batch(table_kind::candles, 2, 2));
  }
  // Flip one byte inside the first record's rows: its checksum fails.
  {
    std::fstream f{path, std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(8 + 8 + 25 + 2);
    f.put('X');
  }
  auto before = file_size();
  spool s{path};
  CAF_CHECK_EQUAL(s.pending(), 0u);
  CAF_CHECK_EQUAL(s.torn_records(), 1u);
  std::ifstream damaged{path + ".damaged", std::ios::binary | std::ios::ate};
  CAF_CHECK_EQUAL(static_cast<long>(damaged.tellg()), before - 8);
}

CAF_TEST(a file that is not a spool is refused) {
  {
    std::ofstream f{path};
    f << "hello world, not a spool";
  }
  try {
    spool s{path};
    CAF_FAIL("opened a non-spool file");
  } catch (const std::runtime_error& e) {
    CAF_CHECK_NOT_EQUAL(
      std::string{e.what()}.find("not a spool"), std::string::npos);
  }
}

CAF_TEST(crc32 of the standard check string) {
  const char* check = "123456789";
  CAF_CHECK_EQUAL(crc32(check, 9), 0xCBF43926u);
}

CAF_TEST_FIXTURE_SCOPE_END()
