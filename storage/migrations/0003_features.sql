-- ML feature vectors, one row per closed bar (docs/FEATURES.md), keyed like
-- the indicators; NULL until a feature has enough history. Plain
-- PostgreSQL: range partitions by month (storage/partitions.cpp); with
-- TimescaleDB the runner removes the partitioning clause and
-- 0004_features.timescale.sql makes the table a hypertable.

CREATE TABLE features (
  time             timestamptz NOT NULL,
  exchange         text        NOT NULL,
  symbol           text        NOT NULL,
  timeframe        text        NOT NULL,
  log_return_1     double precision,
  log_return_5     double precision,
  volatility_20    double precision,
  range_pct        double precision,
  atr_pct          double precision,
  rsi_norm         double precision,
  macd_hist_pct    double precision,
  bb_percent_b     double precision,
  bb_width         double precision,
  dist_sma_20      double precision,
  dist_sma_50      double precision,
  dist_ema_12      double precision,
  dist_ema_26      double precision,
  volume_zscore_20 double precision,
  volume_ratio_20  double precision,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, symbol, timeframe, time)
) PARTITION BY RANGE (time);
