-- TimescaleDB: the trades' compression back on after the key change,
-- segmented by the instrument's id, with 0002's 7-day policy.
ALTER TABLE trades SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'symbol_id');
SELECT add_compression_policy('trades', INTERVAL '7 days');
