-- The trades' primary key becomes (symbol_id, trade_id, time): the same
-- uniqueness as (exchange, symbol, trade_id, time), since symbols.id names
-- exactly one (exchange, symbol), with narrower keys. The name columns stay
-- in every row, so the archive reads without a join. The writers send the
-- id with every row; rows that name only their instrument (older spool
-- records) are stored through a join with `symbols` (storage/pg_store.cpp).
ALTER TABLE trades ADD COLUMN symbol_id integer;
UPDATE trades t SET symbol_id = s.id
  FROM symbols s WHERE s.exchange = t.exchange AND s.symbol = t.symbol;
ALTER TABLE trades ALTER COLUMN symbol_id SET NOT NULL;
ALTER TABLE trades DROP CONSTRAINT trades_pkey;
ALTER TABLE trades ADD PRIMARY KEY (symbol_id, trade_id, time);
