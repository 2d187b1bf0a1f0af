"""Local stand-ins for remote services (object stores, web servers) and tiny models, for tests
and benchmarks."""
