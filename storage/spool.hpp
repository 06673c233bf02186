#pragma once

// An append-only file of copy_batches a writer could not deliver: during a
// database outage every batch goes here, in order, and is replayed from the
// front when the database returns. Records are length-prefixed and
// checksummed; a record torn by a crash mid-append (or damaged on disk) is
// cut off on open and its bytes kept in `path`.damaged. The
// replay position is kept in a side file, so a restart resumes where the
// last run stopped (a record replayed twice is harmless: every write is an
// idempotent upsert). No CAF here.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "storage/copy_batch.hpp"

namespace csp::storage {

/// The spool of one writer.
class spool {
public:
  /// Opens (or creates) the spool at `path` and its side file
  /// `path`.offset. Throws std::runtime_error when the file cannot be
  /// opened or is not a spool.
  explicit spool(std::string path);
  ~spool();

  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;

  /// Appends `b` durably (written and fdatasync'ed). Throws on I/O errors.
  void append(const copy_batch& b);

  /// Returns whether records wait for replay.
  bool has_pending() const noexcept { return !index_.empty(); }

  /// Records waiting for replay.
  std::size_t pending() const noexcept { return index_.size(); }

  /// Rows in the waiting records.
  std::size_t pending_rows() const noexcept { return pending_rows_; }

  /// Bytes of the spool file.
  std::uint64_t file_bytes() const noexcept { return end_; }

  /// Reads the oldest waiting record; nullopt when there is none.
  std::optional<copy_batch> front();

  /// Marks the oldest waiting record as replayed. When none is left the
  /// file is truncated.
  void pop();

  /// Path of the spool file.
  const std::string& path() const noexcept { return path_; }

  /// Records cut off as torn when the spool was opened.
  std::size_t torn_records() const noexcept { return torn_; }

private:
  /// A waiting record: its offset and row count.
  struct entry {
    std::uint64_t offset;
    std::size_t rows;
  };

  void scan();
  void save_offset(std::uint64_t head);
  bool read_record(std::uint64_t at, copy_batch& out, std::uint64_t& next);

  std::string path_;
  int fd_ = -1;
  /// End of the last complete record.
  std::uint64_t end_ = 0;
  std::deque<entry> index_;
  std::size_t pending_rows_ = 0;
  std::size_t torn_ = 0;
};

/// CRC-32 (IEEE 802.3) of `n` bytes, continuing from `crc`.
std::uint32_t crc32(const void* data, std::size_t n, std::uint32_t crc = 0);

} // namespace csp::storage
