"""The weights' optimiser, by name (``--optimizer``): Adam on the flat weight vector, or SOAP.

SOAP (Vyas et al. 2024, "SOAP: Improving and Stabilizing Shampoo using Adam") runs Adam in the
eigenbasis of Shampoo's per-dimension preconditioners, so it needs each tensor in its own shape:
``fit_gop`` hands it shaped views of the flat vector (``FitConfig.make_optimizer``). On carphone
GOP 0 (gnerv q4, 3000 iterations) it gave +1.2 to +1.4 dB at equal rate over Adam for ~1.3× the
time per iteration (docs/encoder-notes.md). The implementation is pytorch-optimizer's, a
maintained package with tests, rather than one of ours.
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
