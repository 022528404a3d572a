"""Benchmarks (`make bench`): figures printed and saved, never asserted in tests."""
