"""Benchmarks and their material: synthetic scenes and transforms a lab can reproduce."""
