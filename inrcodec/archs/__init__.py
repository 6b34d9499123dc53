"""The architectures, torch-free: each is one module (wire id, arch_params, cost, tensors, computation,
quality ladder); importing this package registers the built-in ones (docs/architectures.md)."""

from ..registry import Registry
from .base import (LAMBDAS, MAX_PARAMS, ArchOption, Architecture, NetworkCost, TensorSpec, chroma_channels,
                   chroma_format, output_offset)
from .program import Builder, Op, Program

ARCHITECTURES: Registry[type[Architecture]] = Registry("architecture")

from . import gnerv, hinerv, nirvana  # noqa: E402,F401  (register the built-in architectures)

__all__ = ["ARCHITECTURES", "ArchOption", "Architecture", "Builder", "LAMBDAS", "MAX_PARAMS", "NetworkCost", "Op",
           "Program", "TensorSpec", "chroma_channels", "chroma_format", "output_offset"]
