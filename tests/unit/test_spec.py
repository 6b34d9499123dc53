"""inrcodec.container.spec: the SHDR enums are the one map between stored numbers and names."""

from __future__ import annotations

import pytest

from inrcodec.container.spec import ChromaFormat, ChromaSiting, ColorRange, FieldOrder, Timing
from inrcodec.errors import InrFormatError, InrInputError


class TestHeaderCodes:
    def test_labels_are_the_documented_numbers(self):
        assert ChromaFormat.labels() == ("420", "444")
        assert ColorRange.labels() == ("unknown", "limited", "full")
        assert ChromaSiting.labels() == ("unknown", "left", "center", "topleft")
        assert FieldOrder.labels() == ("progressive", "tff", "bff")
        assert Timing.labels() == ("constant", "retimed")

    def test_codes_round_trip(self):
        for enum in (ChromaFormat, ColorRange, ChromaSiting, FieldOrder, Timing):
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

    def test_field_order_letters_are_y4m_and_showinfo_ones(self):
        assert [m.letter for m in FieldOrder] == ["p", "t", "b"]
        assert FieldOrder.from_letter("T") is FieldOrder.TFF and FieldOrder.from_letter("b") is FieldOrder.BFF
        assert FieldOrder.from_letter("?") is FieldOrder.PROGRESSIVE  # unknown is stored as progressive
        with pytest.raises(InrInputError, match="unknown field order 'top'"):
            FieldOrder.from_label("top")
        with pytest.raises(InrFormatError, match="unknown timing code 2"):
            Timing.from_code(2)

    def test_chroma_shape(self):
        assert ChromaFormat.YUV420.chroma_shape(7, 5) == (3, 4)
        assert ChromaFormat.YUV444.chroma_shape(7, 5) == (5, 7)
