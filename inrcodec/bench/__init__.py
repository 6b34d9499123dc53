"""Benchmarks: inrcodec against x264, x265 and SVT-AV1 (rate, quality, speed, memory)."""
