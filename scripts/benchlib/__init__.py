"""Helpers shared by the benchmarks: real relay/host processes and /proc readings.

They mirror tests/conftest.py (which stays as it is for now); once both settle, the
tests can import these instead of keeping their own copy.
"""
