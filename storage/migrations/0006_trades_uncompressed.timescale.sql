-- TimescaleDB: compressed chunks can be neither updated nor re-keyed, so
-- the trades' compression is switched off (every chunk decompressed) for
-- 0007_trades_symbol_key and switched on again by 0008.
SELECT remove_compression_policy('trades', if_exists => true);
SELECT decompress_chunk(c, if_compressed => true) FROM show_chunks('trades') c;
ALTER TABLE trades SET (timescaledb.compress = false);
