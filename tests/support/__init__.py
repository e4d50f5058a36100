"""Code shared by the tests and the benchmarks (servers, proxies, fixtures' helpers)."""
