// The OpenAPI 3.0.3 document of the API, built from the route table: every
// route of api_routes() gets one operation, its security from the route's
// access level and its rate-limit response from `limited`. Timeframes,
// indicator names, token error codes and the CSV header come from the code
// that produces them.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/jwt.hpp"
#include "api/rest_format.hpp"
#include "api/routes.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/timeframe.hpp"

namespace csp::api {

namespace {

using json = nlohmann::ordered_json;

/// Symbols as the symbol table stores them (and ws_protocol checks them).
constexpr std::string_view symbol_pattern = "^[A-Z0-9.^=-]{1,32}$";

/// Exchange names as the symbol table stores them.
constexpr std::string_view exchange_pattern = "^[a-z0-9_]{1,32}$";

/// A point in time: ms since the epoch or an ISO-8601 UTC date/date-time.
constexpr std::string_view time_pattern
  = "^([0-9]{1,19}|[0-9]{4}-[0-9]{2}-[0-9]{2}"
    "(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?Z)?)$";

json ref(std::string_view kind, std::string_view name) {
  return json{
    {"$ref", "#/components/" + std::string{kind} + "/" + std::string{name}}};
}

json schema_ref(std::string_view name) {
  return ref("schemas", name);
}

json string_schema(std::string_view description) {
  return json{{"type", "string"}, {"description", description}};
}

json integer_schema(std::string_view description) {
  return json{
    {"type", "integer"}, {"format", "int64"}, {"description", description}};
}

/// An object whose members are all required.
json object_schema(std::string_view description, json properties) {
  json required = json::array();
  for (const auto& item : properties.items())
    required.push_back(item.key());
  return json{{"type", "object"}, {"description", description},
    {"required", std::move(required)}, {"properties", std::move(properties)}};
}

json timeframe_labels() {
  json out = json::array();
  for (auto tf : messages::all_timeframes)
    out.push_back(messages::to_string(tf));
  return out;
}

/// `{"error":{"code":..,"message":..}}` as an example value.
json error_example(std::string_view code, std::string_view message) {
  return json{{"value", {{"error", {{"code", code}, {"message", message}}}}}};
}

using code_list
  = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// A JSON error response with one example per error code.
json error_response(std::string_view description, code_list codes) {
  json examples = json::object();
  for (const auto& [code, message] : codes)
    examples[std::string{code}] = error_example(code, message);
  return json{{"description", description},
    {"content",
      {{"application/json",
        {{"schema", schema_ref("Error")},
          {"examples", std::move(examples)}}}}}};
}

json json_response(std::string_view description, json schema) {
  return json{{"description", description},
    {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

// -- components ---------------------------------------------------------------

json error_schema() {
  auto inner = object_schema("The error.",
    json{{"code", string_schema("Stable, e.g. `invalid_symbol`.")},
      {"message", string_schema("What went wrong.")}});
  return object_schema(
    "Every error body. `code` is machine-readable; `message` is for humans "
    "(invalid UTF-8 replaced by U+FFFD).",
    json{{"error", std::move(inner)}});
}

json decimal_schema() {
  return json{{"type", "string"}, {"pattern", "^-?[0-9]+(\\.[0-9]{1,8})?$"},
    {"description",
      "An exact decimal: at most 8 fractional digits, no "
      "exponent, no trailing zeros."},
    {"example", "42000.1"}};
}

json fixed8_schema() {
  return json{{"type", "string"}, {"pattern", "^-?[0-9]+\\.[0-9]{8}$"},
    {"description",
      "A decimal with exactly 8 fractional digits "
      "(Binance's format)."},
    {"example", "42000.10000000"}};
}

json timeframe_schema() {
  return json{{"type", "string"}, {"enum", timeframe_labels()},
    {"description", "A bar interval."}};
}

json indicators_schema() {
  json props = json::object();
  for (auto name : messages::indicator_names)
    props[std::string{name}]
      = json{{"type", "number"}, {"format", "double"}, {"nullable", true}};
  auto out = object_schema(
    "Indicator values of one bar, each printed to read back as exactly the "
    "same double, or null while the indicator has not enough history. The "
    "whole object is null when the bar has no indicator snapshot.",
    std::move(props));
  out["nullable"] = true;
  return out;
}

json bar_schema() {
  return object_schema(
    "One bar (candle) with its indicators. Times are ms since the epoch "
    "(UTC); close_time = open_time + length - 1 ms.",
    json{
      {"exchange", string_schema("Exchange name, e.g. `binance`.")},
      {"symbol", string_schema("Instrument, e.g. `BTCUSDT`.")},
      {"timeframe", schema_ref("Timeframe")},
      {"open_time", integer_schema("Open time, ms since the epoch.")},
      {"close_time", integer_schema("Close time, ms since the epoch.")},
      {"open", schema_ref("Decimal")},
      {"high", schema_ref("Decimal")},
      {"low", schema_ref("Decimal")},
      {"close", schema_ref("Decimal")},
      {"volume", schema_ref("Decimal")},
      {"quote_volume", schema_ref("Decimal")},
      {"taker_buy_volume", schema_ref("Decimal")},
      {"taker_buy_quote_volume", schema_ref("Decimal")},
      {"trade_count", integer_schema("Trades in the bar.")},
      {"first_trade_id", integer_schema("-1 for a bar without trades.")},
      {"last_trade_id", integer_schema("-1 for a bar without trades.")},
      {"revision", integer_schema("Re-openings by late trades.")},
      {"closed",
        json{
          {"type", "boolean"}, {"description", "False while the bar forms."}}},
      {"indicators", schema_ref("Indicators")},
    });
}

json chart_schema() {
  json bars{{"type", "array"}, {"items", schema_ref("Bar")}};
  return object_schema("Bars of one instrument, oldest first.",
    json{{"exchange", string_schema("Exchange name.")},
      {"symbol", string_schema("Instrument.")},
      {"timeframe", schema_ref("Timeframe")}, {"bars", std::move(bars)}});
}

json kline_schema() {
  return json{{"type", "array"}, {"minItems", 12}, {"maxItems", 12},
    {"items",
      {{"oneOf", json::array({{{"type", "integer"}}, {{"type", "string"}}})}}},
    {"description",
      "Binance's kline: [0] open time (ms, integer), [1] open, [2] high, "
      "[3] low, [4] close, [5] volume (strings with 8 decimals), [6] close "
      "time (ms, integer), [7] quote asset volume (string), [8] number of "
      "trades (integer), [9] taker buy base asset volume, [10] taker buy "
      "quote asset volume (strings), [11] ignored, always \"0\"."},
    {"example",
      json::array({1705312800000, "42000.10000000", "42100.00000000",
        "41900.00000001", "42050.50000000", "12.50000000", 1705312859999,
        "525000.25000000", 42, "6.25000000", "262500.12500000", "0"})}};
}

json symbols_schema() {
  auto entry = object_schema("One listed instrument.",
    json{{"symbol", string_schema("Instrument.")},
      {"asset_class", schema_ref("AssetClass")}});
  json listing{{"type", "array"}, {"items", std::move(entry)}};
  json exchanges{{"type", "object"},
    {"description",
      "Exchange name to its instruments, "
      "exchanges in name order."},
    {"additionalProperties", std::move(listing)}};
  return object_schema(
    "The active instruments.", json{{"exchanges", std::move(exchanges)}});
}

json quality_schema() {
  auto failed = object_schema("Failures of one check in the window.",
    json{{"check_type", string_schema("The check, e.g. `id_gap`.")},
      {"failed", integer_schema("Failures in the window.")}});
  auto trade_id = integer_schema("The trade concerned, or null.");
  trade_id["nullable"] = true;
  auto issue = object_schema("One recent issue.",
    json{{"check_type", string_schema("The check.")},
      {"detail", string_schema("What was seen.")},
      {"trade_id", std::move(trade_id)},
      {"time", integer_schema("When, ms since the epoch.")}});
  json score{{"type", "number"}, {"format", "double"}, {"nullable", true},
    {"description", "0..100; null when not finite."}};
  return object_schema("The latest data-quality report of an instrument.",
    json{{"exchange", string_schema("Exchange name.")},
      {"symbol", string_schema("Instrument.")},
      {"time", integer_schema("Report time, ms since the epoch.")},
      {"window_ms", integer_schema("Length of the window checked.")},
      {"score", std::move(score)},
      {"observations", integer_schema("Trades checked in the window.")},
      {"failed_checks", {{"type", "array"}, {"items", std::move(failed)}}},
      {"recent_issues", {{"type", "array"}, {"items", std::move(issue)}}}});
}

json health_schema() {
  json state{
    {"type", "string"}, {"enum", {"healthy", "degraded", "unhealthy"}}};
  auto component = object_schema("Health of one component.",
    json{{"component", string_schema("E.g. `collector.binance-0`.")},
      {"status", state}, {"detail", string_schema("Human-readable detail.")}});
  return object_schema("Health of the platform and of each component.",
    json{{"status", state},
      {"time",
        json{{"type", "string"}, {"format", "date-time"},
          {"description", "ISO-8601 UTC."}}},
      {"components", {{"type", "array"}, {"items", std::move(component)}}}});
}

json symbol_change_schema() {
  return object_schema("The outcome of an admin symbol change.",
    json{{"exchange", string_schema("Exchange name.")},
      {"symbol", string_schema("Instrument.")},
      {"status", {{"type", "string"}, {"enum", {"added", "removed"}}}}});
}

json add_symbol_schema() {
  json exchange{{"type", "string"}, {"pattern", exchange_pattern}};
  json symbol{{"type", "string"}, {"pattern", symbol_pattern}};
  json asset_class = schema_ref("AssetClass");
  return json{{"type", "object"}, {"required", {"exchange", "symbol"}},
    {"additionalProperties", false},
    {"properties",
      {{"exchange", std::move(exchange)}, {"symbol", std::move(symbol)},
        {"asset_class", std::move(asset_class)}}}};
}

json schemas() {
  json asset_class{
    {"type", "string"}, {"enum", {"crypto", "stock"}}, {"default", "crypto"}};
  return json{{"Error", error_schema()}, {"Decimal", decimal_schema()},
    {"Fixed8", fixed8_schema()}, {"Timeframe", timeframe_schema()},
    {"AssetClass", std::move(asset_class)}, {"Indicators", indicators_schema()},
    {"Bar", bar_schema()}, {"Chart", chart_schema()}, {"Kline", kline_schema()},
    {"Symbols", symbols_schema()}, {"QualityReport", quality_schema()},
    {"Health", health_schema()}, {"AddSymbolRequest", add_symbol_schema()},
    {"SymbolChange", symbol_change_schema()}};
}

json token_error_codes() {
  json out = json::array();
  for (auto x : {jwt_errc::malformed, jwt_errc::unsupported_algorithm,
         jwt_errc::bad_signature, jwt_errc::expired, jwt_errc::not_yet_valid,
         jwt_errc::missing_claim, jwt_errc::bad_role})
    out.push_back(to_string(x));
  return out;
}

json unauthorized_response() {
  auto out = error_response(
    "No valid token: none was sent where one is required (`missing_token`), "
    "or the token was refused (`token_*`).",
    {{"missing_token", "this endpoint needs a bearer token"}});
  auto& examples = out["content"]["application/json"]["examples"];
  for (const auto& code : token_error_codes())
    examples[code.get<std::string>()]
      = error_example(code.get<std::string>(), "the token was refused");
  out["headers"]["WWW-Authenticate"]
    = json{{"description", "`Bearer` with the error."},
      {"schema", {{"type", "string"}}}};
  return out;
}

json responses() {
  auto method_not_allowed = error_response(
    "The path exists but not with this method; `Allow` lists its methods.",
    {{"method_not_allowed", "method not allowed"}});
  method_not_allowed["headers"]["Allow"] = ref("headers", "Allow");
  auto rate_limited = error_response(
    "Too many requests from this client (token bucket per IP address or "
    "token subject).",
    {{"rate_limited", "too many requests"}});
  rate_limited["headers"]["Retry-After"] = ref("headers", "Retry-After");
  return json{{"Unauthorized", unauthorized_response()},
    {"Forbidden",
      error_response("The token does not allow this, or administration is "
                     "disabled (no `JWT_SECRET`).",
        {{"forbidden", "an admin token is required"},
          {"admin_disabled", "administration is disabled"}})},
    {"MethodNotAllowed", std::move(method_not_allowed)},
    {"PayloadTooLarge",
      error_response("The body exceeds `api.max_body_bytes`.",
        {{"payload_too_large", "body too large"}})},
    {"RateLimited", std::move(rate_limited)},
    {"HeadersTooLarge",
      error_response("The request line and header fields exceed "
                     "`api.max_header_bytes`.",
        {{"headers_too_large", "header fields too large"}})},
    {"Unavailable",
      error_response("A store (PostgreSQL, Redis) could not answer, or the "
                     "server could not handle the request.",
        {{"unavailable", "the request was not answered"}})},
    {"Timeout",
      error_response(
        "No answer in time.", {{"timeout", "no answer in time"}})}};
}

json parameters() {
  json symbol{{"name", "symbol"}, {"in", "path"}, {"required", true},
    {"description",
      "Instrument: 1 to 32 upper-case letters, "
      "digits and `. - ^ =`."},
    {"schema", {{"type", "string"}, {"pattern", symbol_pattern}}}};
  json exchange_path{{"name", "exchange"}, {"in", "path"}, {"required", true},
    {"description", "Exchange name (lower case)."},
    {"schema", {{"type", "string"}, {"pattern", exchange_pattern}}}};
  json exchange{{"name", "exchange"}, {"in", "query"}, {"required", false},
    {"description",
      "Exchange name (lower case); by default the "
      "exchange that lists the symbol."},
    {"schema", {{"type", "string"}, {"pattern", exchange_pattern}}}};
  auto tf_schema = timeframe_schema();
  tf_schema["default"] = "1m";
  json timeframe{{"name", "timeframe"}, {"in", "query"}, {"required", false},
    {"description", "Bar interval."}, {"schema", std::move(tf_schema)}};
  json start{{"name", "start"}, {"in", "query"}, {"required", false},
    {"description",
      "First open time (inclusive): ms since the epoch "
      "or ISO-8601 UTC (`2024-01-31`, "
      "`2024-01-31T10:00:00Z`, "
      "`2024-01-31T10:00:00.123Z`)."},
    {"schema", schema_ref("TimePoint")}};
  json end = start;
  end["name"] = "end";
  end["description"] = "Last open time (inclusive), in the same forms as "
                       "`start`.";
  return json{{"SymbolPath", std::move(symbol)},
    {"ExchangePath", std::move(exchange_path)},
    {"Exchange", std::move(exchange)}, {"Timeframe", std::move(timeframe)},
    {"Start", std::move(start)}, {"End", std::move(end)}};
}

json components() {
  auto all_schemas = schemas();
  all_schemas["TimePoint"] = json{{"type", "string"}, {"pattern", time_pattern},
    {"description",
      "Ms since the epoch, or an ISO-8601 UTC date or "
      "date-time (years 1970..9999)."}};
  json bearer{{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"},
    {"description",
      "A JWT signed with HS256 (the only algorithm accepted) under "
      "the server's `JWT_SECRET`. Claims: `exp` (seconds, "
      "required), `role` (required: `viewer` or `admin`; an admin "
      "may do everything a viewer may), `sub` (optional), `nbf` "
      "(checked when present)."}};
  json headers{{"Retry-After",
                 {{"description", "Seconds to wait (at least 1)."},
                   {"schema", {{"type", "integer"}, {"minimum", 1}}}}},
    {"Allow",
      {{"description", "The methods of the path, e.g. `GET`."},
        {"schema", {{"type", "string"}}}}}};
  return json{{"schemas", std::move(all_schemas)}, {"responses", responses()},
    {"parameters", parameters()}, {"headers", std::move(headers)},
    {"securitySchemes", {{"bearer", std::move(bearer)}}}};
}

// -- operations ---------------------------------------------------------------

json limit_param(std::int64_t max, std::int64_t fallback) {
  return json{{"name", "limit"}, {"in", "query"}, {"required", false},
    {"description", "Most bars returned (the newest of the range)."},
    {"schema",
      {{"type", "integer"}, {"minimum", 1}, {"maximum", max},
        {"default", fallback}}}};
}

json ms_param(std::string_view name, std::string_view description) {
  return json{{"name", name}, {"in", "query"}, {"required", false},
    {"description", description},
    {"schema", {{"type", "integer"}, {"format", "int64"}, {"minimum", 0}}}};
}

json bad_request(code_list codes) {
  return error_response("The request is malformed.", codes);
}

json op_liveness() {
  json body{{"type", "object"}, {"required", {"status"}},
    {"properties", {{"status", {{"type", "string"}, {"enum", {"ok"}}}}}}};
  return json{{"operationId", "get_liveness"}, {"tags", {"system"}},
    {"summary", "Liveness: the process answers."},
    {"responses", {{"200", json_response("Alive.", std::move(body))}}}};
}

json op_health() {
  return json{{"operationId", "get_health"}, {"tags", {"system"}},
    {"summary", "Health of the platform and its components."},
    {"responses",
      {{"200", json_response("Healthy or degraded.", schema_ref("Health"))},
        {"503", json_response("Unhealthy.", schema_ref("Health"))}}}};
}

json op_symbols() {
  return json{{"operationId", "list_symbols"}, {"tags", {"market data"}},
    {"summary", "The active instruments by exchange."},
    {"responses",
      {{"200", json_response("The instruments.", schema_ref("Symbols"))},
        {"503", ref("responses", "Unavailable")}}}};
}

json op_charts() {
  return json{{"operationId", "get_chart"}, {"tags", {"market data"}},
    {"summary", "Bars with indicators."},
    {"parameters",
      {ref("parameters", "SymbolPath"), ref("parameters", "Exchange"),
        ref("parameters", "Timeframe"), limit_param(1000, 500),
        ref("parameters", "Start"), ref("parameters", "End")}},
    {"responses",
      {{"200", json_response("Bars, oldest first.", schema_ref("Chart"))},
        {"400",
          bad_request({{"invalid_symbol", "invalid symbol"},
            {"invalid_timeframe",
              "timeframe \"3m\" is not "
              "one of 1m, 5m, 15m, 1h, "
              "4h, 1d"},
            {"invalid_parameter", "limit must be 1..1000"}})},
        {"404",
          error_response("The instrument is not listed.",
            {{"unknown_symbol", "unknown symbol"}})},
        {"503", ref("responses", "Unavailable")}}}};
}

json op_klines() {
  json symbol{{"name", "symbol"}, {"in", "query"}, {"required", true},
    {"description", "Instrument."},
    {"schema", {{"type", "string"}, {"pattern", symbol_pattern}}}};
  json interval{{"name", "interval"}, {"in", "query"}, {"required", true},
    {"description", "Bar interval."}, {"schema", timeframe_schema()}};
  json klines{{"type", "array"}, {"items", schema_ref("Kline")}};
  return json{{"operationId", "get_klines"}, {"tags", {"market data"}},
    {"summary", "Bars in Binance's /api/v3/klines format."},
    {"parameters",
      {std::move(symbol), std::move(interval),
        ms_param("startTime", "First open time, ms since the epoch."),
        ms_param("endTime", "Last open time, ms since the epoch."),
        limit_param(1000, 500)}},
    {"responses",
      {{"200", json_response("Klines, oldest first.", std::move(klines))},
        {"400",
          bad_request({{"invalid_symbol", "invalid symbol"},
            {"invalid_timeframe", "interval is not served"},
            {"invalid_parameter", "symbol is required"}})},
        {"404",
          error_response("The instrument is not listed.",
            {{"unknown_symbol", "unknown symbol"}})},
        {"503", ref("responses", "Unavailable")}}}};
}

json op_quality() {
  return json{{"operationId", "get_quality"}, {"tags", {"market data"}},
    {"summary", "The latest data-quality report of an instrument."},
    {"parameters",
      {ref("parameters", "SymbolPath"), ref("parameters", "Exchange")}},
    {"responses",
      {{"200", json_response("The report.", schema_ref("QualityReport"))},
        {"400",
          bad_request({{"invalid_symbol", "invalid symbol"},
            {"invalid_parameter", "unknown parameter"}})},
        {"404",
          error_response("The instrument is not listed, or has no "
                         "report yet.",
            {{"unknown_symbol", "unknown symbol"},
              {"no_quality_report", "no quality report yet"}})},
        {"503", ref("responses", "Unavailable")}}}};
}

json op_export() {
  json format{{"name", "format"}, {"in", "query"}, {"required", false},
    {"description", "File format."},
    {"schema", {{"type", "string"}, {"enum", {"csv"}}, {"default", "csv"}}}};
  std::string header;
  append_csv_header(header);
  json csv{{"schema", {{"type", "string"}}}, {"example", header}};
  json ok{{"description",
            "RFC 4180 CSV with CRLF line ends: a header row, then one row per "
            "bar, oldest first. Times as ISO-8601 UTC with milliseconds, "
            "prices and volumes as exact decimals, indicators as round-trip "
            "numbers, an empty field for null."},
    {"headers",
      {{"Content-Disposition",
        {{"description",
           "`attachment; filename=\"<symbol>_<timeframe>"
           ".csv\"`."},
          {"schema", {{"type", "string"}}}}}}},
    {"content", {{"text/csv", std::move(csv)}}}};
  return json{{"operationId", "export_csv"}, {"tags", {"market data"}},
    {"summary", "Bars with indicators as a CSV file."},
    {"parameters",
      {ref("parameters", "SymbolPath"), ref("parameters", "Exchange"),
        ref("parameters", "Timeframe"), std::move(format),
        ref("parameters", "Start"), ref("parameters", "End"),
        limit_param(100000, 100000)}},
    {"responses",
      {{"200", std::move(ok)},
        {"400",
          bad_request({{"invalid_symbol", "invalid symbol"},
            {"invalid_timeframe", "timeframe is not served"},
            {"invalid_parameter", "format must be csv"}})},
        {"404",
          error_response("The instrument is not listed.",
            {{"unknown_symbol", "unknown symbol"}})},
        {"503", ref("responses", "Unavailable")}}}};
}

json op_add_symbol() {
  json body{{"required", true},
    {"content",
      {{"application/json",
        {{"schema", schema_ref("AddSymbolRequest")},
          {"example",
            {{"exchange", "binance"}, {"symbol", "SOLUSDT"},
              {"asset_class", "crypto"}}}}}}}};
  return json{{"operationId", "add_symbol"}, {"tags", {"admin"}},
    {"summary", "Lists an instrument (or lists it again)."},
    {"requestBody", std::move(body)},
    {"responses",
      {{"201", json_response("Listed.", schema_ref("SymbolChange"))},
        {"400",
          bad_request({{"invalid_body",
                         "the body is not a JSON object "
                         "with exchange and symbol"},
            {"invalid_symbol", "invalid symbol"},
            {"invalid_parameter",
              "rejected by the symbol "
              "table"}})},
        {"503", ref("responses", "Unavailable")}}}};
}

json op_remove_symbol() {
  return json{{"operationId", "remove_symbol"}, {"tags", {"admin"}},
    {"summary", "Unlists an instrument (its history is kept)."},
    {"parameters",
      {ref("parameters", "ExchangePath"), ref("parameters", "SymbolPath")}},
    {"responses",
      {{"200", json_response("Unlisted.", schema_ref("SymbolChange"))},
        {"400",
          bad_request({{"invalid_symbol", "invalid symbol"},
            {"invalid_parameter", "invalid exchange name"}})},
        {"404",
          error_response("No active instrument of that name.",
            {{"unknown_symbol", "no active symbol"}})},
        {"503", ref("responses", "Unavailable")}}}};
}

json op_metrics() {
  json text{{"schema", {{"type", "string"}}}};
  return json{{"operationId", "get_metrics"}, {"tags", {"system"}},
    {"summary", "Prometheus metrics."},
    {"responses",
      {{"200",
        {{"description",
           "The Prometheus text exposition format "
           "(version 0.0.4); gzip-compressed (Content-Encoding: gzip) "
           "when the request's Accept-Encoding takes gzip."},
          {"content", {{"text/plain", std::move(text)}}}}}}}};
}

json op_openapi() {
  return json{{"operationId", "get_openapi"}, {"tags", {"system"}},
    {"summary", "This document."},
    {"responses",
      {{"200",
        json_response(
          "The OpenAPI 3.0.3 document.", json{{"type", "object"}})}}}};
}

json op_websocket() {
  json token{{"name", "token"}, {"in", "query"}, {"required", false},
    {"description",
      "A viewer or admin JWT, for clients that cannot send an "
      "`Authorization` header; needed when reads require "
      "authentication."},
    {"schema", {{"type", "string"}}}};
  return json{{"operationId", "open_websocket"}, {"tags", {"market data"}},
    {"summary", "Live bars over WebSocket."},
    {"description",
      "Upgrades to a WebSocket (RFC 6455). Text frames of JSON in two "
      "dialects, told apart per message: native (`op`: subscribe, "
      "unsubscribe, ping, list_subscriptions; snapshot and bar events) and "
      "Binance-compatible (`method`: SUBSCRIBE, UNSUBSCRIBE, "
      "LIST_SUBSCRIPTIONS on `<symbol>@kline_<interval>` streams; kline "
      "events). docs/API.md describes the protocol."},
    {"parameters", {std::move(token)}},
    {"responses",
      {{"101",
        {{"description",
          "Switching Protocols: the connection is a "
          "WebSocket."}}}}}};
}

/// The operation of `r` without the responses every route of its kind
/// shares.
json operation_of(const route& r) {
  switch (r.id) {
    case route_id::health_live:
      return op_liveness();
    case route_id::health:
      return op_health();
    case route_id::symbols:
      return op_symbols();
    case route_id::charts:
      return op_charts();
    case route_id::klines:
      return op_klines();
    case route_id::quality:
      return op_quality();
    case route_id::export_csv:
      return op_export();
    case route_id::admin_add_symbol:
      return op_add_symbol();
    case route_id::admin_remove_symbol:
      return op_remove_symbol();
    case route_id::metrics:
      return op_metrics();
    case route_id::openapi:
      return op_openapi();
    case route_id::websocket:
      return op_websocket();
    case route_id::web_asset:
      break;
  }
  return json{{"operationId", "get_web_asset"},
    {"summary", "An asset of the chart page."},
    {"responses", {{"200", {{"description", "The asset."}}}}}};
}

/// Adds security and the responses implied by the route's access level,
/// rate limiting and method.
void complete(json& op, const route& r) {
  // Security first: adding a member to `op` moves its other members.
  switch (r.level) {
    case access::open:
      op["security"] = json::array();
      break;
    case access::read:
      op["security"]
        = json::array({json::object(), {{"bearer", json::array()}}});
      break;
    case access::admin:
      op["security"] = json::array({{{"bearer", json::array()}}});
      break;
  }
  auto& res = op["responses"];
  if (r.level != access::open)
    res["401"] = ref("responses", "Unauthorized");
  if (r.level == access::admin)
    res["403"] = ref("responses", "Forbidden");
  res["405"] = ref("responses", "MethodNotAllowed");
  if (op.contains("requestBody"))
    res["413"] = ref("responses", "PayloadTooLarge");
  if (r.limited)
    res["429"] = ref("responses", "RateLimited");
  res["431"] = ref("responses", "HeadersTooLarge");
  if (res.contains("101"))
    return; // An upgrade is answered before any handler runs.
  if (!res.contains("503"))
    res["503"] = ref("responses", "Unavailable");
  res["504"] = ref("responses", "Timeout");
}

json paths() {
  json out = json::object();
  for (const auto& r : api_routes()) {
    auto op = operation_of(r);
    complete(op, r);
    std::string method{r.method};
    for (auto& c : method)
      if (c >= 'A' && c <= 'Z')
        c = static_cast<char>(c - 'A' + 'a');
    out[std::string{r.pattern}][method] = std::move(op);
  }
  return out;
}

json document() {
  json info{{"title", "Crypto-Stock Platform API"}, {"version", "1"},
    {"description",
      "Market data (bars with indicators, Binance-compatible klines, CSV "
      "exports, data quality) over REST and WebSocket, and symbol "
      "administration. Errors are `{\"error\":{\"code\",\"message\"}}`. "
      "Reads are open unless the server sets `api.reads_require_auth`; "
      "administration always needs an admin token."}};
  json tags = json::array(
    {{{"name", "system"}, {"description", "Health, metrics, this document."}},
      {{"name", "market data"}, {"description", "Bars, quality, exports."}},
      {{"name", "admin"}, {"description", "The symbol table."}}});
  return json{{"openapi", "3.0.3"}, {"info", std::move(info)},
    {"tags", std::move(tags)}, {"paths", paths()},
    {"components", components()}};
}

} // namespace

const std::string& openapi_json() {
  static const std::string text = document().dump();
  return text;
}

} // namespace csp::api
