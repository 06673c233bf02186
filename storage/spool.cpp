#include "storage/spool.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace csp::storage {

namespace {

constexpr char magic[8] = {'C', 'S', 'P', 'S', 'P', 'O', 'O', 'L'};
constexpr std::uint64_t header_size = sizeof(magic);

// Record layout (little-endian): u32 body length, u32 CRC-32 of the body;
// body = u8 table (its high bit set for binary rows, clear for text: the
// spools of versions before binary COPY hold text rows under a bare table
// number), u64 row count, i64 min time, i64 max time, rows.
constexpr std::size_t record_head = 8;
constexpr std::uint8_t binary_rows_bit = 0x80;
constexpr std::size_t body_fixed = 1 + 8 + 8 + 8;
// A body longer than this is corruption, not a batch.
constexpr std::uint32_t max_body = 1u << 30;

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::runtime_error{
    "spool " + path + ": " + what + ": " + std::strerror(errno)};
}

void put_u64(char* p, std::uint64_t x) {
  for (int i = 0; i < 8; ++i)
    p[i] = static_cast<char>((x >> (8 * i)) & 0xff);
}

void put_u32(char* p, std::uint32_t x) {
  for (int i = 0; i < 4; ++i)
    p[i] = static_cast<char>((x >> (8 * i)) & 0xff);
}

std::uint64_t get_u64(const char* p) {
  std::uint64_t x = 0;
  for (int i = 7; i >= 0; --i)
    x = (x << 8) | static_cast<unsigned char>(p[i]);
  return x;
}

std::uint32_t get_u32(const char* p) {
  std::uint32_t x = 0;
  for (int i = 3; i >= 0; --i)
    x = (x << 8) | static_cast<unsigned char>(p[i]);
  return x;
}

bool read_exact(int fd, std::uint64_t at, char* buf, std::size_t n) {
  while (n > 0) {
    auto got = ::pread(fd, buf, n, static_cast<off_t>(at));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return false;
    buf += got;
    n -= static_cast<std::size_t>(got);
    at += static_cast<std::uint64_t>(got);
  }
  return true;
}

void write_exact(int fd, std::uint64_t at, const char* buf, std::size_t n,
  const std::string& path) {
  while (n > 0) {
    auto put = ::pwrite(fd, buf, n, static_cast<off_t>(at));
    if (put < 0 && errno == EINTR)
      continue;
    if (put < 0)
      fail("write", path);
    buf += put;
    n -= static_cast<std::size_t>(put);
    at += static_cast<std::uint64_t>(put);
  }
}

const std::array<std::uint32_t, 256>& crc_table() {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      auto c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

} // namespace

std::uint32_t crc32(const void* data, std::size_t n, std::uint32_t crc) {
  const auto& t = crc_table();
  auto p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i)
    crc = t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

spool::spool(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0)
    fail("open", path_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0)
    fail("stat", path_);
  if (st.st_size == 0) {
    write_exact(fd_, 0, magic, sizeof(magic), path_);
    ::fdatasync(fd_);
  } else {
    char head[sizeof(magic)] = {};
    if (!read_exact(fd_, 0, head, sizeof(head))
      || std::memcmp(head, magic, sizeof(magic)) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw std::runtime_error{"spool " + path_ + ": not a spool file"};
    }
  }
  scan();
}

spool::~spool() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool spool::read_record(
  std::uint64_t at, copy_batch& out, std::uint64_t& next) {
  char head[record_head];
  if (!read_exact(fd_, at, head, sizeof(head)))
    return false;
  auto len = get_u32(head);
  auto crc = get_u32(head + 4);
  if (len < body_fixed || len > max_body)
    return false;
  std::string body(len, '\0');
  if (!read_exact(fd_, at + record_head, body.data(), len))
    return false;
  if (crc32(body.data(), body.size()) != crc)
    return false;
  auto table_byte = static_cast<std::uint8_t>(body[0]);
  // Records written before binary COPY carry the bare table number: text.
  bool binary = (table_byte & binary_rows_bit) != 0;
  auto table = static_cast<std::uint8_t>(table_byte & ~binary_rows_bit);
  if (table >= table_kind_count)
    return false;
  next = at + record_head + len;
  out.table = static_cast<table_kind>(table);
  out.format = binary ? copy_format::binary : copy_format::text;
  out.row_count = get_u64(body.data() + 1);
  out.min_time_ms = static_cast<std::int64_t>(get_u64(body.data() + 9));
  out.max_time_ms = static_cast<std::int64_t>(get_u64(body.data() + 17));
  out.rows.assign(body, body_fixed, std::string::npos);
  return true;
}

void spool::scan() {
  std::uint64_t head = header_size;
  // The side file holds the replay position as decimal text.
  if (auto f = std::fopen((path_ + ".offset").c_str(), "r")) {
    unsigned long long off = 0;
    if (std::fscanf(f, "%llu", &off) == 1 && off >= header_size)
      head = off;
    std::fclose(f);
  }
  // Walk every complete record; the replay starts at the side file's
  // position when that is a record boundary, else at the beginning
  // (replaying twice is harmless, skipping is not).
  std::vector<entry> all;
  std::uint64_t at = header_size;
  copy_batch rec;
  for (std::uint64_t next = 0; read_record(at, rec, next); at = next)
    all.push_back(entry{at, rec.row_count});
  end_ = at;
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > end_) {
    // A torn (or corrupt) tail: cut it off so appends continue cleanly,
    // keeping the bytes in a side file (`path`.damaged) for inspection.
    ++torn_;
    std::string tail(static_cast<std::size_t>(st.st_size) - end_, '\0');
    if (read_exact(fd_, end_, tail.data(), tail.size())) {
      if (auto f = std::fopen((path_ + ".damaged").c_str(), "ab")) {
        std::fwrite(tail.data(), 1, tail.size(), f);
        std::fclose(f);
      }
    }
    if (::ftruncate(fd_, static_cast<off_t>(end_)) != 0)
      fail("truncate", path_);
  }
  bool boundary = head == end_;
  for (const auto& e : all)
    boundary = boundary || e.offset == head;
  if (!boundary) {
    head = header_size;
    save_offset(head);
  }
  index_.clear();
  pending_rows_ = 0;
  for (const auto& e : all)
    if (e.offset >= head) {
      index_.push_back(e);
      pending_rows_ += e.rows;
    }
}

void spool::save_offset(std::uint64_t head) {
  auto tmp = path_ + ".offset.tmp";
  auto f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr)
    fail("open offset file", path_);
  std::fprintf(f, "%llu\n", static_cast<unsigned long long>(head));
  std::fflush(f);
  ::fdatasync(::fileno(f));
  std::fclose(f);
  if (std::rename(tmp.c_str(), (path_ + ".offset").c_str()) != 0)
    fail("rename offset file", path_);
}

void spool::append(const copy_batch& b) {
  std::string rec(record_head + body_fixed, '\0');
  rec[record_head] = static_cast<char>(static_cast<std::uint8_t>(b.table)
    | (b.format == copy_format::binary ? binary_rows_bit : 0));
  put_u64(rec.data() + record_head + 1, b.row_count);
  put_u64(
    rec.data() + record_head + 9, static_cast<std::uint64_t>(b.min_time_ms));
  put_u64(
    rec.data() + record_head + 17, static_cast<std::uint64_t>(b.max_time_ms));
  rec += b.rows;
  auto body_len = rec.size() - record_head;
  if (body_len > max_body)
    throw std::runtime_error{"spool " + path_ + ": batch too large"};
  put_u32(rec.data(), static_cast<std::uint32_t>(body_len));
  put_u32(rec.data() + 4, crc32(rec.data() + record_head, body_len));
  write_exact(fd_, end_, rec.data(), rec.size(), path_);
  if (::fdatasync(fd_) != 0)
    fail("fdatasync", path_);
  index_.push_back(entry{end_, b.row_count});
  pending_rows_ += b.row_count;
  end_ += rec.size();
}

std::optional<copy_batch> spool::front() {
  if (index_.empty())
    return std::nullopt;
  copy_batch out;
  std::uint64_t next = 0;
  if (!read_record(index_.front().offset, out, next))
    throw std::runtime_error{"spool " + path_ + ": unreadable record"};
  return out;
}

void spool::pop() {
  if (index_.empty())
    return;
  pending_rows_ -= std::min(pending_rows_, index_.front().rows);
  index_.pop_front();
  if (index_.empty()) {
    // Everything replayed: start over with an empty file. The position is
    // reset first: a crash in between replays old records (harmless) but
    // never lets a stale position skip records appended later.
    save_offset(header_size);
    if (::ftruncate(fd_, static_cast<off_t>(header_size)) != 0)
      fail("truncate", path_);
    ::fdatasync(fd_);
    end_ = header_size;
  } else {
    save_offset(index_.front().offset);
  }
}

} // namespace csp::storage
