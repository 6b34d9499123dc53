"""InrFile refuses headers whose network it cannot build, with the documented error."""

import pytest

from inrcodec.decode.decoder import InrFile
from inrcodec.container.chunks import ModelChunk, SequenceHeader
from inrcodec.container.writer import serialize
from inrcodec.errors import InrFormatError, InrUnsupportedError


def _file(arch_id=1, arch_params=(1, 4, 8, 6, 8, 4)):
    header = SequenceHeader(
        width=16, height=16, n_frames=1, fps_num=25, fps_den=1, chroma_format=0, bit_depth=8,
        color_range=0, color_primaries=2, transfer=2, matrix=2, chroma_siting=0, gop_size=1,
        gom_size=1, arch_id=arch_id, arch_params=arch_params, coder_id=1, seed=1,
    )
    return serialize(header, [ModelChunk(gop_index=0, kind=0, body=b"")])


@pytest.mark.parametrize("params", [(1, 4, 8, 6), (7, 4, 8, 6, 8), (1, 4, 8, 0, 8), (1, 4, 8, 1024, 1024, 1024)])
def test_invalid_arch_params_are_a_format_error(params):
    with pytest.raises(InrFormatError, match="arch_params"):
        InrFile(_file(arch_params=params))


def test_unknown_architecture_is_unsupported():
    with pytest.raises(InrUnsupportedError):
        InrFile(_file(arch_id=99))


def test_empty_model_body_is_a_format_error_not_a_crash():
    with InrFile(_file()) as f, pytest.raises(InrFormatError):
        f[0]
