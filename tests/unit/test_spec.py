"""inrcodec.container.spec: the SHDR enums are the one map between stored numbers and names."""

from __future__ import annotations

import pytest

from inrcodec.container.spec import ChromaFormat, ChromaSiting, ColorRange
from inrcodec.errors import InrFormatError, InrInputError


class TestHeaderCodes:
    def test_labels_are_the_documented_numbers(self):
        assert ChromaFormat.labels() == ("420", "444")
        assert ColorRange.labels() == ("unknown", "limited", "full")
        assert ChromaSiting.labels() == ("unknown", "left", "center", "topleft")

    def test_codes_round_trip(self):
        for enum in (ChromaFormat, ColorRange, ChromaSiting):
            for label in enum.labels():
                assert enum.from_code(int(enum.from_label(label))).label == label

    def test_from_code_rejects_unknown_code(self):
        with pytest.raises(InrFormatError, match="unknown colour range code 3; expected 0..2"):
            ColorRange.from_code(3)
        with pytest.raises(InrFormatError):
            ChromaSiting.from_code(-1)
        with pytest.raises(InrFormatError):
            ChromaFormat.from_code(True)

    def test_from_label_rejects_unknown_name(self):
        with pytest.raises(InrInputError, match="expected one of unknown, limited, full"):
            ColorRange.from_label("tv")
        with pytest.raises(InrInputError, match="unknown chroma format '422'"):
            ChromaFormat.from_label("422")

    def test_chroma_shape(self):
        assert ChromaFormat.YUV420.chroma_shape(7, 5) == (3, 4)
        assert ChromaFormat.YUV444.chroma_shape(7, 5) == (5, 7)
