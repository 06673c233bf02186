-- TimescaleDB: the features table as a hypertable with the same chunks,
-- compression and retention as the indicators (0002_timescale).
SELECT create_hypertable('features', 'time', chunk_time_interval => INTERVAL '7 days');

ALTER TABLE features SET (timescaledb.compress,
  timescaledb.compress_segmentby = 'exchange, symbol, timeframe');

SELECT add_compression_policy('features', INTERVAL '7 days');

SELECT add_retention_policy('features', INTERVAL '365 days');
