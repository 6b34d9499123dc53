"""The weights' optimiser, by name (``--optimizer``): Adam on the flat weight vector, or SOAP.

SOAP (Vyas et al. 2024) preconditions each tensor in its own shape, so ``fit_gop`` hands it shaped
views of the flat vector; why it is the default: docs/encoder-notes.md. The implementation is
pytorch-optimizer's, a maintained package with tests.
"""

from __future__ import annotations

from typing import Callable

import torch

from ..errors import InrInputError
from .presets import OPTIMIZERS

SOAP_BETAS = (0.9, 0.95)


def make_optimizer(name: str) -> Callable[[list[torch.nn.Parameter], float], torch.optim.Optimizer] | None:
    """``FitConfig.make_optimizer`` for ``name``; None for Adam (fit_gop's own, on the flat vector)."""
    if name == "adam":
        return None
    if name == "soap":
        try:
            from pytorch_optimizer import SOAP
        except ImportError:
            raise InrInputError("--optimizer soap needs pytorch-optimizer: pip install 'inrcodec[encode]'") from None
        # weight decay off, as Adam has it: the rate term is the only pull towards zero
        return lambda views, lr: SOAP(views, lr=lr, weight_decay=0.0, betas=SOAP_BETAS)
    raise InrInputError(f"unknown optimizer {name!r} (known: {', '.join(OPTIMIZERS)})")
