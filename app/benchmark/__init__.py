"""The benchmark (`flask --app app bench`, app.benchmark.command): how fast the app is at a chosen scale, on the
database of DATABASE_URL, measured rather than tested; the README's Development section says how to run it and
BENCHMARKS.md holds the figures.

- dataset: the demo data set at the chosen scale, built or reused, and the people the measures act as;
- scratch: a second database beside it for the sweep, pushes and imports (a million open follow-ups);
- server_times: server time p50/p95 of Today, a lead, search, logging an outcome and both dashboards;
- server, load, throughput: gunicorn on loopback, a load generator process, Today's requests per second next to
  a trivial endpoint's (stats: their percentiles);
- wire: bytes a first visit and an htmx fragment take, compressed;
- sweep, pushes (with push_service, the loopback push service), imports: the worker's and the import's rates;
- report: the table, its targets, the machine, the JSON.
"""
