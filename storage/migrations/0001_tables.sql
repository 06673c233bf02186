-- Base tables. Plain PostgreSQL: the time-series tables are partitioned by
-- range of `time`; the writers create partitions ahead of the data and drop
-- them after the retention period (storage/partitions.cpp). With
-- TimescaleDB the migration runner removes every range-partitioning clause
-- and 0002_timescale.timescale.sql makes the tables hypertables instead.

CREATE TABLE symbols (
  exchange    text        NOT NULL,
  symbol      text        NOT NULL,
  asset_class text        NOT NULL DEFAULT 'crypto'
              CHECK (asset_class IN ('crypto', 'stock')),
  active      boolean     NOT NULL DEFAULT true,
  added_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, symbol),
  CHECK (exchange ~ '^[a-z0-9_]{1,32}$'),
  CHECK (symbol ~ '^[A-Z0-9.^=-]{1,32}$')
);

CREATE TABLE trades (
  time           timestamptz NOT NULL,
  exchange       text        NOT NULL,
  symbol         text        NOT NULL,
  trade_id       bigint      NOT NULL,
  price          numeric     NOT NULL,
  quantity       numeric     NOT NULL,
  buyer_is_maker boolean     NOT NULL,
  event_time     timestamptz,
  PRIMARY KEY (exchange, symbol, trade_id, time)
) PARTITION BY RANGE (time);

CREATE TABLE candles (
  time                   timestamptz NOT NULL,
  exchange               text        NOT NULL,
  symbol                 text        NOT NULL,
  timeframe              text        NOT NULL,
  open                   numeric     NOT NULL,
  high                   numeric     NOT NULL,
  low                    numeric     NOT NULL,
  close                  numeric     NOT NULL,
  volume                 numeric     NOT NULL,
  quote_volume           numeric     NOT NULL,
  taker_buy_volume       numeric     NOT NULL,
  taker_buy_quote_volume numeric     NOT NULL,
  trade_count            bigint      NOT NULL,
  first_trade_id         bigint,
  last_trade_id          bigint,
  close_time             timestamptz NOT NULL,
  revision               integer     NOT NULL DEFAULT 0,
  updated_at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, symbol, timeframe, time)
) PARTITION BY RANGE (time);

CREATE TABLE indicators (
  time        timestamptz NOT NULL,
  exchange    text        NOT NULL,
  symbol      text        NOT NULL,
  timeframe   text        NOT NULL,
  sma_20      double precision,
  sma_50      double precision,
  sma_100     double precision,
  sma_200     double precision,
  ema_12      double precision,
  ema_26      double precision,
  ema_50      double precision,
  rsi_14      double precision,
  macd        double precision,
  macd_signal double precision,
  macd_hist   double precision,
  bb_upper    double precision,
  bb_middle   double precision,
  bb_lower    double precision,
  stoch_k     double precision,
  stoch_d     double precision,
  atr_14      double precision,
  adx_14      double precision,
  vwap        double precision,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (exchange, symbol, timeframe, time)
) PARTITION BY RANGE (time);

CREATE TABLE data_quality (
  time          timestamptz NOT NULL,
  exchange      text        NOT NULL,
  symbol        text        NOT NULL,
  window_ms     bigint      NOT NULL,
  score         double precision NOT NULL,
  observations  bigint      NOT NULL,
  failed_checks jsonb       NOT NULL DEFAULT '{}',
  recent_issues jsonb       NOT NULL DEFAULT '[]',
  PRIMARY KEY (exchange, symbol, time)
) PARTITION BY RANGE (time);
