"""Local stand-ins for remote services (object stores, web servers), for tests and benchmarks."""
