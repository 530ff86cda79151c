"""Hearth's benchmarks: ``scripts/bench`` runs them all and writes docs/benchmarks.md."""
