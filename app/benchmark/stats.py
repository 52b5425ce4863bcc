"""Percentiles, shared by the measures and the load generator (which imports nothing heavier)."""
import statistics


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 of the samples (the median, and the nearest rank for p95)."""
    ordered = sorted(samples)
    p95 = ordered[max(0, min(len(ordered) - 1, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95
