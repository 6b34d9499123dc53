"""The executable check of spec/entropy-coding.md §2.3: the range coder (id 1) written from the text.

``SpecRangeDecoder`` and ``SpecRangeEncoder`` below implement what §2.3 says (with §1, §2.1,
§2.2, §2.5 and §3.2), with Python integers only and no constriction. The tests hold them
against constriction 0.5.0 and against the project's coder (``get_coder(1)``): the same words
for the same message, the message back from those words, and the same verdict on valid and
damaged streams. If the spec text and the library ever disagree, these tests fail.
"""

from __future__ import annotations

import bisect
import random
from collections import Counter

import constriction
import numpy as np
import pytest

from inrcodec.coders import FreqTable, fixed_point_pmf, get_coder
from inrcodec.coders.base import categorical_model
from inrcodec.errors import InrFormatError
from inrcodec.quant.tables import laplace_table

MOD = 1 << 64  # the state is 64-bit; ⊕, ⊖ and ≪ are modulo 2^64
FULL_RANGE = MOD - 1  # R at the start
WORD = 1 << 32
PROB_ONE = 1 << 24  # 24-bit probabilities: the p_i sum to 2^24
END_BOUND = (1 << 33) - 1  # §2.3 end rule: X ⊖ L < 2^33 − 1


class SpecInvalid(Exception):
    """A stream §2 calls invalid."""


# ---------------------------------------------------------------------------------------------
# The spec, written out


def spec_left(counts: list[int]) -> list[int]:
    """§3.2: left_0 … left_n for a table of n ≥ 2 counts (Python floats are binary64)."""
    n, total = len(counts), sum(counts)
    scale = float(PROB_ONE - n) / float(total)
    left, cumulative = [], 0
    for i, count in enumerate(counts):
        left.append(int(float(cumulative) * scale) + i)  # int() truncates toward zero
        cumulative += count
    left.append(PROB_ONE)
    return left


class SpecRangeDecoder:
    """§2.3 decoder: lower bound L, range R, point X, position of the next unread word."""

    def __init__(self, words: list[int]) -> None:
        self.words = list(words)
        self.pos = 0
        self.lower = 0
        self.range = FULL_RANGE
        first = self.read_word()
        second = self.read_word()
        self.point = first * WORD + second

    def read_word(self) -> int:
        """The word at the position, or 0 once every word has been read."""
        if self.pos == len(self.words):
            return 0
        self.pos += 1
        return self.words[self.pos - 1]

    def decode(self, left: list[int]) -> int:
        """One index under the model ``left`` (p_i = left_{i+1} − left_i)."""
        s = self.range >> 24
        q = ((self.point - self.lower) % MOD) // s
        if q >= PROB_ONE:
            raise SpecInvalid("q >= 2^24")
        i = bisect.bisect_right(left, q) - 1  # left_i <= q < left_{i+1}
        self.lower = (self.lower + s * left[i]) % MOD
        self.range = s * (left[i + 1] - left[i])
        if self.range < WORD:
            self.lower = (self.lower << 32) % MOD
            self.range = self.range * WORD
            self.point = ((self.point << 32) % MOD) + self.read_word()
        return i

    def offset(self) -> int:
        """X ⊖ L."""
        return (self.point - self.lower) % MOD

    def ends_cleanly(self) -> bool:
        """The end rule (constriction's ``maybe_exhausted()``), R = 2^64 − 1 clause included."""
        return self.pos == len(self.words) and (self.range == FULL_RANGE or self.offset() < END_BOUND)


class SpecRangeEncoder:
    """§2.3 encoder: L, R, the words written, at most one pending run (w, n)."""

    def __init__(self) -> None:
        self.lower = 0
        self.range = FULL_RANGE
        self.words: list[int] = []
        self.pending: tuple[int, int] | None = None
        self.events: Counter = Counter()  # which branches of the text ran (coverage, not spec)
        self.renormalisations = 0

    def write_run(self, carry: int) -> None:
        w, n = self.pending
        assert w + carry < WORD  # §2.3: w + 1 < 2^32 always holds
        self.words.append(w + carry)
        self.words.extend([0 if carry else WORD - 1] * (n - 1))
        self.pending = None

    def encode(self, i: int, left: list[int]) -> None:
        s = self.range >> 24
        self.range = s * (left[i + 1] - left[i])
        new_lower = (self.lower + s * left[i]) % MOD
        carry = int(new_lower < self.lower)
        if self.pending is not None and new_lower + self.range < MOD:
            self.events["run written", carry, self.pending[1] > 1] += 1
            self.write_run(carry)
        elif carry:
            self.events["carry without a run written"] += 1  # §2.3 says this never happens
        self.lower = new_lower
        if self.range < WORD:
            self.renormalisations += 1
            self.range = self.range * WORD
            top = self.lower >> 32
            self.lower = (self.lower << 32) % MOD
            if self.pending is not None:
                self.pending = (self.pending[0], self.pending[1] + 1)
            elif self.lower + self.range < MOD:
                self.words.append(top)
            else:
                self.pending = (top, 1)
                self.events["run started"] += 1

    def flush(self) -> list[int]:
        """The stream's words (the encoder's ``get_compressed()``)."""
        if self.range == FULL_RANGE:
            return []
        point = (self.lower + WORD - 1) % MOD
        if self.pending is not None:
            carry = int(point < self.lower)
            self.events["run flushed", carry] += 1
            self.write_run(carry)
        self.words.append(point >> 32)
        extra_zero = ((self.lower + self.range) % MOD) >> 32 == point >> 32
        self.events["flush zero word", extra_zero] += 1
        if extra_zero:
            self.words.append(0)
        return self.words


def contributes(count: int, counts: list[int]) -> bool:
    """§1: a segment with one symbol in its table, or no symbols, contributes no bits."""
    return count > 0 and len(counts) > 1


def spec_encode_words(segments, encoder: SpecRangeEncoder | None = None) -> list[int]:
    """Words for ``[(indices, counts), ...]`` (indices = symbol − offset)."""
    encoder = encoder or SpecRangeEncoder()
    for indices, counts in segments:
        if contributes(len(indices), counts):
            left = spec_left(counts)
            for i in indices:
                encoder.encode(i, left)
    return encoder.flush()


def words_of(data: bytes) -> list[int]:
    """§2.1: little-endian 32-bit words; invalid unless whole words."""
    if len(data) % 4:
        raise SpecInvalid("§2.1: not whole words")
    return [int.from_bytes(data[k : k + 4], "little") for k in range(0, len(data), 4)]


def bytes_of(words: list[int]) -> bytes:
    return b"".join(w.to_bytes(4, "little") for w in words)


def spec_decode(data: bytes, segments) -> list[list[int]]:
    """Index lists for ``[(count, counts), ...]``, or SpecInvalid: §1, §2.1, §2.3 and §2.5."""
    words = words_of(data)
    if not any(contributes(count, counts) for count, counts in segments):
        if words:
            raise SpecInvalid("§1: codes no symbols")
        return [[0] * count for count, _ in segments]
    decoder = SpecRangeDecoder(words)
    decoded = []
    for count, counts in segments:
        if not contributes(count, counts):
            decoded.append([0] * count)
            continue
        left = spec_left(counts)
        decoded.append([decoder.decode(left) for _ in range(count)])
    if not decoder.ends_cleanly():
        raise SpecInvalid("end rule")
    if spec_encode_words(list(zip(decoded, (counts for _, counts in segments)))) != words:
        raise SpecInvalid("§2.5: not the encoding of what it decodes to")
    return decoded


# ---------------------------------------------------------------------------------------------
# The library and the project, for comparison


def table_of(counts: list[int], offset: int = 0) -> FreqTable:
    return FreqTable(offset, np.array(counts, dtype=np.int64))


def constriction_words(segments) -> list[int]:
    """constriction's RangeEncoder over ``[(indices, counts), ...]``, models built as the project does."""
    encoder = constriction.stream.queue.RangeEncoder()
    for indices, counts in segments:
        if contributes(len(indices), counts):
            encoder.encode(np.array(indices, dtype=np.int32), categorical_model(table_of(counts)))
    return [int(w) for w in encoder.get_compressed()]


def constriction_decode(words: list[int], segments):
    """(indices per segment or None if the library raised, its maybe_exhausted() or None)."""
    decoder = constriction.stream.queue.RangeDecoder(np.array(words, dtype=np.uint32))
    decoded = []
    try:
        for count, counts in segments:
            if contributes(count, counts):
                decoded.append(decoder.decode(categorical_model(table_of(counts)), count).tolist())
            else:
                decoded.append([0] * count)
    except BaseException as exc:  # noqa: BLE001 - pyo3 panics are BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return None, None
    return decoded, decoder.maybe_exhausted()


def spec_decode_step(words: list[int], segments):
    """The same as ``constriction_decode``, from the spec text only (no §2.5 re-encoding)."""
    decoder = SpecRangeDecoder(words)
    decoded = []
    try:
        for count, counts in segments:
            if contributes(count, counts):
                left = spec_left(counts)
                decoded.append([decoder.decode(left) for _ in range(count)])
            else:
                decoded.append([0] * count)
    except SpecInvalid:
        return None, None
    return decoded, decoder.ends_cleanly()


def project_decode(data: bytes, segments, offsets):
    """The project's range decoder: index lists, or None if it rejects the stream."""
    try:
        symbols = get_coder(1).decode(
            data, [(count, table_of(counts, off)) for (count, counts), off in zip(segments, offsets)]
        )
    except InrFormatError:
        return None
    return [(s - off).tolist() for s, off in zip(symbols, offsets)]


# ---------------------------------------------------------------------------------------------
# Messages


def random_counts(rng: random.Random) -> list[int]:
    """A table: small, wide, Laplace-shaped, with one dominant symbol, or with one symbol."""
    kind = rng.randrange(6)
    if kind == 0:
        return [1]
    if kind == 1:
        return [rng.randint(1, 2**40 // 8) for _ in range(rng.randint(2, 8))]
    if kind == 2:
        return laplace_table(rng.randint(1, 65535), rng.randint(1, 40)).counts.tolist()
    if kind == 3:  # one symbol near probability 1 (p = 2^24 − n + 1 or so)
        counts = [1] * rng.randint(2, 300)
        counts[rng.randrange(len(counts))] = 2**40 - len(counts)
        return counts
    if kind == 4:
        return [rng.randint(1, 1000) for _ in range(rng.randint(2, 2000))]
    return [1, 1]


def random_indices(rng: random.Random, counts: list[int], length: int) -> list[int]:
    if len(counts) == 1:
        return [0] * length
    if rng.random() < 0.8:  # drawn from the model itself
        left = spec_left(counts)
        return rng.choices(range(len(counts)), weights=[b - a for a, b in zip(left, left[1:])], k=length)
    return [rng.randrange(len(counts)) for _ in range(length)]  # uniform: expensive symbols too


def random_message(rng: random.Random, long: bool = False):
    """Several segments with different tables and lengths 0, 1, 2, … or thousands."""
    segments = []
    for _ in range(rng.randint(1, 4)):
        counts = random_counts(rng)
        length = rng.randint(2000, 6000) if long else rng.choice([0, 1, 2, 3, rng.randint(4, 300)])
        segments.append((random_indices(rng, counts, length), counts))
    return segments


def steered_message(rng: random.Random):
    """A message that keeps the coding interval across a word boundary for many words.

    Decoding (§2.3) a run of 0 or 2^32 − 1 words yields a message whose interval keeps
    straddling a multiple of 2^32: the encoder then holds long pending runs, resolved with and
    without a carry, and often ends with one. Random messages rarely reach those branches.
    """
    counts = rng.choice([[1, 1], [5, 3, 1], [1, 2**39, 1], [1000, 1], [1, 7]])
    fill = rng.choice([0, WORD - 1])
    words = (
        [rng.getrandbits(32) for _ in range(rng.randint(0, 3))]
        + [fill] * rng.randint(1, 12)
        + [rng.getrandbits(32) for _ in range(rng.randint(0, 3))]
    )
    decoder = SpecRangeDecoder(words)
    left = spec_left(counts)
    indices = []
    for _ in range(rng.randint(1, 600)):
        try:
            indices.append(decoder.decode(left))
        except SpecInvalid:
            break
    return [(indices, counts)]


def as_decode_segments(segments):
    return [(len(indices), counts) for indices, counts in segments]


# ---------------------------------------------------------------------------------------------
# Tests


class TestSpecModel:
    def test_left_is_the_projects_fixed_point_table(self):
        rng = random.Random(7)
        tables = [random_counts(rng) for _ in range(40)] + [[1, 2**39], [2**40 - 2**16] + [1] * 65536]
        for counts in tables:
            if len(counts) > 1:
                left = spec_left(counts)
                assert np.diff(left).tolist() == fixed_point_pmf(table_of(counts)).tolist()


class TestEncoderMatchesConstriction:
    def test_random_messages_give_the_same_words_and_decode_back(self):
        rng = random.Random(20240521)
        events: Counter = Counter()
        for trial in range(250):
            segments = random_message(rng, long=trial % 25 == 0)
            encoder = SpecRangeEncoder()
            words = spec_encode_words(segments, encoder)
            events.update(encoder.events)
            assert words == constriction_words(segments), trial
            # §2.3: one word per renormalisation plus 1 or 2 from the flush (none if empty)
            if words:
                assert len(words) - encoder.renormalisations in (1, 2)
            # the spec decoder gets the message back and the stream ends cleanly
            decoder = SpecRangeDecoder(words)
            for indices, counts in segments:
                if contributes(len(indices), counts):
                    left = spec_left(counts)
                    assert [decoder.decode(left) for _ in indices] == indices
            if words:
                assert decoder.ends_cleanly() and decoder.offset() < WORD
            assert spec_decode(bytes_of(words), as_decode_segments(segments)) == [ind for ind, _ in segments]
        assert events["carry without a run written"] == 0
        assert events["run started"] > 100

    def test_short_messages(self):
        for counts in ([1, 1], [3, 1, 4, 1, 5], [1, 2**40 - 2], [2**40 - 2, 1]):
            for indices in ([], [0], [1], [0, 0], [0, 1], [1, 0], [1, 1]):
                segments = [(indices, counts)]
                words = spec_encode_words(segments)
                assert words == constriction_words(segments)
                assert (words == []) == (indices == [])
                assert spec_decode(bytes_of(words), as_decode_segments(segments)) == [indices]
        assert spec_encode_words([([], [1, 1]), ([0, 0, 0], [1]), ([], [5, 5])]) == []

    def test_carry_and_pending_run_branches(self):
        rng = random.Random(99)
        events: Counter = Counter()
        for _ in range(400):
            segments = steered_message(rng)
            encoder = SpecRangeEncoder()
            words = spec_encode_words(segments, encoder)
            events.update(encoder.events)
            assert words == constriction_words(segments)
            assert spec_decode(bytes_of(words), as_decode_segments(segments)) == [segments[0][0]]
        # every branch of the §2.3 encoder text ran, so constriction agreed on each of them
        for branch in [
            ("run written", 0, False),
            ("run written", 1, False),
            ("run written", 0, True),
            ("run written", 1, True),
            ("run flushed", 0),
            ("run flushed", 1),
            ("flush zero word", False),
            ("flush zero word", True),
        ]:
            assert events[branch] > 0, branch
        assert events["carry without a run written"] == 0

    def test_project_encoder_writes_the_spec_words(self):
        rng = random.Random(3)
        for _ in range(30):
            segments = random_message(rng)
            offsets = [rng.randint(-100, 100) for _ in segments]
            data = get_coder(1).encode(
                [(np.array(ind, dtype=np.int64) + off, table_of(c, off)) for (ind, c), off in zip(segments, offsets)]
            )
            assert data == bytes_of(spec_encode_words(segments))


def damaged_word_streams(rng: random.Random, words: list[int]):
    """Appended word, last word dropped, one word changed, truncations, all-zero and random."""
    yield "append", words + [rng.getrandbits(32)]
    yield "append zero", words + [0]
    if words:
        yield "drop last", words[:-1]
        k = rng.randrange(len(words))
        yield "flip word", words[:k] + [words[k] ^ (1 << rng.randrange(32))] + words[k + 1 :]
        yield "replace word", words[:k] + [rng.getrandbits(32)] + words[k + 1 :]
        yield "truncate", words[: rng.randrange(len(words))]
        yield "zeros", [0] * len(words)
    yield "empty", []
    yield "random", [rng.getrandbits(32) for _ in range(rng.randint(1, 6))]


class TestEndRule:
    def test_end_rule_is_maybe_exhausted(self):
        """Decoded indices, errors and the end verdict agree with constriction's decoder."""
        rng = random.Random(5)
        verdicts: Counter = Counter()
        for trial in range(300):
            segments = random_message(rng) if trial % 2 else steered_message(rng)
            decode_segments = as_decode_segments(segments)
            if not any(contributes(n, c) for n, c in decode_segments):
                continue
            words = constriction_words(segments)
            for kind, damaged in [("valid", words), *damaged_word_streams(rng, words)]:
                expected = constriction_decode(damaged, decode_segments)
                assert spec_decode_step(damaged, decode_segments) == expected, (trial, kind)
                verdicts[kind, "q >= 2^24" if expected[0] is None else expected[1]] += 1
        assert verdicts["valid", True] > 100 and verdicts["valid", False] == 0
        # the damage reaches every outcome: rejected while decoding, by the end rule, and not at all
        assert verdicts["random", "q >= 2^24"] > 0
        assert verdicts["append", False] > 0 and verdicts["truncate", False] > 0
        assert verdicts["drop last", True] > 0  # e.g. the flush's extra zero word: only §2.5 sees it

    def test_what_the_end_rule_lets_through(self):
        """Streams cut to no words, and a word appended after a one-word flush, pass the end rule."""
        rng = random.Random(8)
        appended = 0
        for _ in range(60):
            segments = [seg for seg in random_message(rng) if contributes(len(seg[0]), seg[1])]
            if not segments:
                continue
            decode_segments = as_decode_segments(segments)
            encoder = SpecRangeEncoder()
            words = spec_encode_words(segments, encoder)
            # no words at all: X = 0 and L stays 0, so X ⊖ L = 0
            decoded, clean = constriction_decode([], decode_segments)
            assert clean is True and spec_decode_step([], decode_segments) == (decoded, True)
            if encoder.events["flush zero word", False]:
                extra = rng.getrandbits(32)
                assert constriction_decode(words + [extra], decode_segments) == (
                    [ind for ind, _ in segments],
                    True,
                )
                assert spec_decode_step(words + [extra], decode_segments) == ([ind for ind, _ in segments], True)
                appended += 1
            else:  # the flush's zero word was the last one read: an appended word stays unread
                assert constriction_decode(words + [0], decode_segments)[1] is False
        assert appended > 30

    def test_q_beyond_the_table_is_invalid(self):
        """q ≥ 2^24 (X in the range's last R mod 2^24 units): constriction and the project raise."""
        words, segments = [0xFFFFFFFF, 0xFF000000], [(1, [1, 1])]
        assert (2**64 - 2**24) // ((2**64 - 1) >> 24) == 2**24
        assert constriction_decode(words, segments) == (None, None)
        assert spec_decode_step(words, segments) == (None, None)
        assert project_decode(bytes_of(words), segments, [0]) is None
        assert spec_decode_step([0xFFFFFFFF, 0xFEFFFFFF], segments) == constriction_decode(
            [0xFFFFFFFF, 0xFEFFFFFF], segments
        ) == ([[1]], False)

    def test_a_stream_that_runs_out_reads_zero_words(self):
        counts = [1, 3, 5, 7]
        segments = [(3, counts)]
        for words in ([], [0x9ABCDEF0], [0x9ABCDEF0, 0], [0x9ABCDEF0, 0, 0, 0]):
            assert spec_decode_step(words, segments) == constriction_decode(words, segments)
        # a missing word and a zero word decode alike; only the position differs
        assert spec_decode_step([0x9ABCDEF0], segments)[0] == spec_decode_step([0x9ABCDEF0, 0], segments)[0]

    def test_fresh_decoder_clause(self):
        """maybe_exhausted() before any index: true iff at most two words (R = 2^64 − 1 clause)."""
        for n in range(5):
            words = [WORD - 1 - k for k in range(n)]  # X ⊖ L far above 2^33: only the R clause passes
            library = constriction.stream.queue.RangeDecoder(np.array(words, dtype=np.uint32))
            assert SpecRangeDecoder(words).ends_cleanly() == library.maybe_exhausted() == (n <= 2)


class TestVerdictMatchesProjectDecoder:
    def test_valid_and_damaged_streams(self):
        rng = random.Random(11)
        outcomes: Counter = Counter()
        for trial in range(200):
            segments = random_message(rng) if trial % 2 else steered_message(rng)
            decode_segments = as_decode_segments(segments)
            offsets = [rng.randint(-5, 5) for _ in segments]
            data = bytes_of(constriction_words(segments))
            cases = [("valid", data)] + [(k, bytes_of(w)) for k, w in damaged_word_streams(rng, words_of(data))]
            if data:
                j = rng.randrange(len(data))
                cases.append(("byte changed", data[:j] + bytes([data[j] ^ rng.randint(1, 255)]) + data[j + 1 :]))
                cases.append(("bytes cut", data[: rng.randrange(len(data))]))
            for kind, damaged in cases:
                try:
                    expected = spec_decode(damaged, decode_segments)
                except SpecInvalid as exc:
                    expected, reason = None, str(exc).split(":")[0]
                else:
                    reason = "accepted" if damaged == data else "damage accepted"
                assert project_decode(damaged, decode_segments, offsets) == expected, (trial, kind)
                outcomes[kind, reason] += 1
        assert outcomes["valid", "accepted"] == 200
        for reason in ("q >= 2^24", "end rule", "§2.5", "§2.1", "§1"):  # every rule rejected something
            assert sum(v for (_, r), v in outcomes.items() if r == reason) > 0, reason
        assert outcomes["drop last", "end rule"] > 0 and outcomes["drop last", "§2.5"] > 0
        # A word appended behind a stream whose flush wrote one word takes the place of the zero
        # the decoder would have read, and X ⊖ L stays < 2^33 − 1: only §2.5 rejects it.
        assert outcomes["append", "§2.5"] > 100
        damaged = sum(v for (k, r), v in outcomes.items() if r not in ("accepted",) and k != "valid")
        assert outcomes["flip word", "damage accepted"] + outcomes["byte changed", "damage accepted"] < 20
        assert sum(v for (_, r), v in outcomes.items() if r == "damage accepted") < damaged / 10

    def test_streams_without_contributing_segments(self):
        segments = [(0, [1, 2]), (4, [1])]
        assert spec_decode(b"", segments) == [[], [0, 0, 0, 0]]
        assert project_decode(b"", segments, [0, 0]) == [[], [0, 0, 0, 0]]
        for data in (b"\0\0\0\0", b"\1\0\0\0\0\0\0\0"):
            with pytest.raises(SpecInvalid):
                spec_decode(data, segments)
            assert project_decode(data, segments, [0, 0]) is None
