"""Quantization and entropy models; submodules are imported by full path (tables.py needs no torch)."""
