"""The benchmarks of requests_cache_like: ``python benchmarks/bench.py`` (see its docstring).

- :mod:`.bench`: the entry point (options, sections, output);
- :mod:`._common`: names, amounts and the error every section raises;
- :mod:`._servers`: the local origin and the Redis server;
- :mod:`._libraries`: a cached session of each library on each backend;
- :mod:`._cases`: hits and misses, timed in interleaved rounds;
- :mod:`._threads`, :mod:`._floors`, :mod:`._streaming`: the other sections;
- :mod:`._report`: the environment, the Markdown tables and docs/performance.md.

``leases.py`` beside them measures what single-flight costs (docs/single-flight.md).
"""
