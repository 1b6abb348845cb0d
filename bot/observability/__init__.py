"""What an operator sees of a running repocrew: structured logs and Prometheus metrics.

`logs` writes one JSON object per line with the ids of the work in hand (`log_context`),
redacted; `calls` counts this process's calls to GitHub, Slack and Anthropic; `ids` says which
ids a job or a run step carries in its log lines. (What the store knows is read at scrape time
by `webhooks.store_metrics`, through `bot.store.metrics`.)
"""
