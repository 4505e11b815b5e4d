/** `vexrail --help`: commands, options and the environment variables behind them. */
export function helpText(): string {
  return `vexrail - self-hosted OpenAI-compatible gateway with prepaid credits

Usage:
  vexrail [serve] [options]     run the gateway (default command)
  vexrail backup FILE           write a consistent online copy of the database to FILE
  vexrail import-products PROJECT_ID FILE [--url URL] [--token TOKEN]
                                import products from a JSON Lines file into an advertiser project
                                of a running gateway, in parts of 2,000 lines, with a progress bar;
                                exits 0 all imported, 1 some lines failed, 2 usage, 3 server error
  vexrail admin-token --reset    print a new admin token once and store its hash (the old one stops
                                working at once, running server included); refused while
                                VEXRAIL_ADMIN_TOKEN is set or when the data directory has no database
  vexrail check-config FILE     validate a config file without starting: every error at once;
                                exits 0 valid, 2 errors
  vexrail migrate-store --to postgres://USER@HOST:PORT/DB
                                copy the data directory's database into an EMPTY PostgreSQL
                                database (schema created there), verify row counts and money
                                sums, all in one transaction; stop the server first
  vexrail --help | --version

Options (environment variable in brackets):
  --port N          listen port, default 8080             [VEXRAIL_PORT]
  --host ADDR       listen address, default 127.0.0.1      [VEXRAIL_HOST]
  --data-dir DIR    data directory, default ./vexrail_data beside the executable  [VEXRAIL_DATA_DIR]
  --database URL    postgres://USER:PASSWORD@HOST:PORT/DB: PostgreSQL as the store, shared by several
                    instances; without it, the embedded SQLite file in the data directory  [VEXRAIL_DATABASE_URL]
  --config FILE     JSON config file (providers, prices, limits)  [VEXRAIL_CONFIG]
  --public-url URL  public base URL used in links           [VEXRAIL_PUBLIC_URL]
  --allowed-hosts H hosts or origins (comma-separated, e.g. gw.example.com,https://ai.example.com)
                    whose Host header may name the origin of tracked links when no public URL
                    is set; otherwise links use the listen address  [VEXRAIL_ALLOWED_HOSTS]
  --demo            on a fresh data directory, create a funded demo project and print its keys
  --quiet           no per-request log lines
  --log-format F    request-log lines: json (default), logfmt or pretty   [VEXRAIL_LOG_FORMAT]
  --url URL         import-products: gateway URL, default http://127.0.0.1:<--port or 8080>  [VEXRAIL_URL]
  --token TOKEN     import-products: admin token            [VEXRAIL_ADMIN_TOKEN]

Upstream LLM: OPENAI_BASE_URL and OPENAI_API_KEY (optional OPENAI_MODELS=a,b) configure one
OpenAI-compatible upstream. Several providers (OpenAI-compatible, Anthropic, Gemini), failover between
them, retries, circuit breakers, aliases and model discovery go in the config file's "providers" list.
With none configured, the offline demo model "vexrail-demo" answers.
Admin API token: VEXRAIL_ADMIN_TOKEN, or generated on first start and printed once.
Metrics: GET /metrics with the admin token, or a read-only VEXRAIL_METRICS_TOKEN, as a Bearer token.
Event-loop lag timer: every 10 ms; VEXRAIL_LAG_PROBE_MS=1 measures stalls of a few ms (costs more CPU).
`;
}
