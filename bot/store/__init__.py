"""The store: the only package that speaks SQL. Tables in `models`, migrations, and the queries
and writes of each aggregate in a module of its own (deliveries and jobs, runs, model calls,
the Slack outbox, standups), and the reads of the web dashboard and of /metrics."""
