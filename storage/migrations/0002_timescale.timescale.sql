-- TimescaleDB: hypertables (1-day chunks for trades, 7-day chunks for the
-- rest), native compression after 7 days segmented by instrument, and the
-- same 365-day retention as the plain variant's partition drop.
CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT create_hypertable('trades', 'time', chunk_time_interval => INTERVAL '1 day');
SELECT create_hypertable('candles', 'time', chunk_time_interval => INTERVAL '7 days');
SELECT create_hypertable('indicators', 'time', chunk_time_interval => INTERVAL '7 days');
SELECT create_hypertable('data_quality', 'time', chunk_time_interval => INTERVAL '7 days');

ALTER TABLE trades SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');
ALTER TABLE candles SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol, timeframe');
ALTER TABLE indicators SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol, timeframe');
ALTER TABLE data_quality SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol');

SELECT add_compression_policy('trades', INTERVAL '7 days');
SELECT add_compression_policy('candles', INTERVAL '7 days');
SELECT add_compression_policy('indicators', INTERVAL '7 days');
SELECT add_compression_policy('data_quality', INTERVAL '7 days');

SELECT add_retention_policy('trades', INTERVAL '365 days');
SELECT add_retention_policy('candles', INTERVAL '365 days');
SELECT add_retention_policy('indicators', INTERVAL '365 days');
SELECT add_retention_policy('data_quality', INTERVAL '365 days');
