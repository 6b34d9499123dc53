"""End to end, mostly through the Python API: encode, then check what the decoder gives back against the source and the encoder."""

from __future__ import annotations

import os

import av
import numpy as np
import pytest
from click.testing import CliRunner

from inrcodec.api import open as open_inr
from inrcodec.cli import main
from inrcodec.describe import describe
from inrcodec.io.video import open_video
from inrcodec.metrics import psnr_yuv

from .conftest import SAMPLE_48, assert_frames_equal, decode_all, fast_encode, read_source

# Largest gap between the rate the encoder estimated and the bytes it wrote, for models over 2000 bytes.
MAX_EST_BITS_ERROR = 0.05
# A P-model of a static clip must cost less than this share of its GOM's I-model.
MAX_STATIC_P_SHARE = 0.25


def _av_frames(path):
    """(Y, U, V) planes of a y4m file as PyAV's yuv4mpegpipe demuxer decodes it, and the stream."""
    with av.open(path, format="yuv4mpegpipe") as container:
        stream = container.streams.video[0]
        info = (stream.codec_context.width, stream.codec_context.height, stream.codec_context.pix_fmt,
                stream.average_rate)
        frames = []
        for frame in container.decode(stream):
            planes = []
            for p in frame.planes[:3]:
                rows = np.frombuffer(p, np.uint8).reshape(-1, p.line_size)
                planes.append(rows[:p.height, :p.width].copy())
            frames.append(tuple(planes))
    return info, frames


class TestRoundTrip:
    @pytest.mark.parametrize("name", ["carphone", "oddsize", "chroma444", "static"])
    def test_preserves_count_size_rate_and_chroma(self, request, name):
        enc = request.getfixturevalue(name)
        with open_video(enc.src) as video:
            src = video.info
        with open_inr(enc.path) as f:
            h = f.header
            assert (len(f), h.width, h.height) == (src.n_frames, src.width, src.height)
            assert (h.fps_num, h.fps_den) == (src.fps_num, src.fps_den)
            assert f.chroma == src.chroma
            frames = list(f)
        assert len(frames) == src.n_frames
        for y, u, v in frames:
            assert y.shape == (src.height, src.width) and y.dtype == np.uint8
            assert u.shape == v.shape == src.chroma_shape

    def test_odd_size_has_rounded_up_chroma(self, oddsize):
        y, u, v = decode_all(oddsize.path)[0]
        assert y.shape == (29, 37)
        assert u.shape == v.shape == (15, 19)

    def test_444_keeps_full_resolution_chroma_and_ntsc_rate(self, chroma444):
        with open_inr(chroma444.path) as f:
            assert f.chroma == "444"
            assert (f.header.fps_num, f.header.fps_den) == (30000, 1001)
            y, u, v = f[0]
        assert y.shape == u.shape == v.shape == (16, 24)

    def test_decoded_frames_resemble_the_source(self, carphone):
        assert carphone.summary.psnr_y > 20

    @pytest.mark.parametrize("name", ["carphone", "oddsize", "chroma444"])
    def test_dec_output_reads_back_through_pyav(self, request, tmp_path, name):
        enc = request.getfixturevalue(name)
        out = str(tmp_path / "out.y4m")
        result = CliRunner().invoke(main, ["dec", enc.path, "-o", out, "--quiet"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        (width, height, pix_fmt, rate), frames = _av_frames(out)
        with open_inr(enc.path) as f:
            assert (width, height) == (f.header.width, f.header.height)
            assert pix_fmt == ("yuv444p" if f.chroma == "444" else "yuv420p")
            assert (rate.numerator, rate.denominator) == (f.header.fps_num, f.header.fps_den)
        assert_frames_equal(frames, decode_all(enc.path))


class TestEncoderDecoderAgree:
    @pytest.mark.parametrize("name", ["carphone", "carphone_gop2", "oddsize", "chroma444", "static"])
    def test_decoded_integer_weights_are_the_encoders(self, request, name):
        enc = request.getfixturevalue(name)
        with open_inr(enc.path) as f:
            decoded = [(gop, "IP"[qm.kind], qm.digest())
                       for gom in range(f.header.n_goms) for gop, (qm,), _ in f.decode_gom(gom)]
        assert decoded == [(g.gop_index, g.kind, g.digest) for g in enc.summary.gops]

    @pytest.mark.parametrize("name", ["carphone", "carphone_gop2", "oddsize", "chroma444"])
    def test_encoder_psnr_is_the_decoded_psnr(self, request, name):
        """Exactly the reference decoder's (torch); the default backend's within what ±1 allows."""
        enc = request.getfixturevalue(name)
        src = read_source(enc.src)
        measured = psnr_yuv(src, decode_all(enc.path, backend="torch"))
        default = psnr_yuv(src, decode_all(enc.path))
        s = enc.summary
        for key in ("psnr_y", "psnr_u", "psnr_v", "psnr_yuv"):
            assert getattr(s, key) == pytest.approx(measured[key], abs=1e-6), key
            assert getattr(s, key) == pytest.approx(default[key], abs=0.01), key


class TestSeek:
    @pytest.mark.parametrize("name", ["oddsize", "carphone_gop2", "carphone"])
    def test_fresh_random_access_decodes_one_gom_and_matches_full_decode(self, request, name):
        enc = request.getfixturevalue(name)
        full = decode_all(enc.path)
        with open_inr(enc.path) as f:
            assert f.header.n_goms >= (3 if name == "oddsize" else 1)
        for n in range(len(full)):
            with open_inr(enc.path) as f:
                frame = f[n]
                assert f.n_decoded_goms == 1, f"frame {n}"
            assert_frames_equal([frame], [full[n]])

    def test_backward_seek_after_playback_matches(self, carphone_gop2):
        full = decode_all(carphone_gop2.path)
        with open_inr(carphone_gop2.path) as f:
            order = [7, 0, 5, 2, 3, 6, 1, 4, -1]
            assert_frames_equal([f[n] for n in order], [full[n] for n in order])


class TestStaticClip:
    def test_p_model_costs_a_fraction_of_the_i_model(self, static):
        i_model, p_model = static.summary.gops
        assert (i_model.kind, p_model.kind) == ("I", "P")
        assert p_model.bytes < MAX_STATIC_P_SHARE * i_model.bytes, (p_model.bytes, i_model.bytes)

    def test_p_model_interpolates_nothing_from_the_initialisation(self, static):
        # uar-nvc eq. 9: identical GOPs have MSE 0, so eps = 0 and the P-model starts from the I-model
        assert static.summary.gops[1].eps_code == 0

    def test_p_gop_keeps_the_quality_of_the_i_gop(self, static):
        src, dec = read_source(static.src), decode_all(static.path)
        first = psnr_yuv(src[:4], dec[:4])["psnr_yuv"]
        second = psnr_yuv(src[4:], dec[4:])["psnr_yuv"]
        assert second >= first - 0.5, (first, second)


class TestReportedBits:
    @pytest.mark.parametrize("name", ["carphone", "carphone_gop2", "oddsize"])
    def test_model_bytes_plus_overhead_is_the_file_size(self, request, name):
        enc = request.getfixturevalue(name)
        desc = describe(enc.path)
        size = os.path.getsize(enc.path)
        assert enc.summary.file_bytes == desc["file_bytes"] == size
        assert sum(g.bytes for g in enc.summary.gops) + desc["overhead_bytes"] == size

    def test_index_lists_every_model_with_its_chunk_bytes(self, carphone_gop2):
        desc = describe(carphone_gop2.path)
        models = [m for g in desc["goms"] for m in g["models"]]
        chunks = [c for c in desc["chunks"] if c["gop"] is not None]
        assert [m["gop"] for m in models] == [g.gop_index for g in carphone_gop2.summary.gops]
        assert [m["bytes"] for m in models] == [c["bytes"] for c in chunks]
        assert [c["kind"] for c in chunks] == [g.kind for g in carphone_gop2.summary.gops]

    @pytest.mark.parametrize("name", ["carphone", "carphone_gop2", "oddsize", "chroma444"])
    def test_estimated_bits_are_close_to_the_coded_bits(self, request, name):
        enc = request.getfixturevalue(name)
        big = [g for g in enc.summary.gops if g.bytes > 1000]
        assert big, "no model large enough to compare"
        for g in big:
            error = abs(g.est_bits - 8 * g.bytes) / (8 * g.bytes)
            assert error < MAX_EST_BITS_ERROR, f"GOP {g.gop_index}: estimated {g.est_bits:.0f}, coded {8 * g.bytes}"


class TestDeterminism:
    def test_same_options_give_the_same_bytes(self, tmp_path):
        options = {"frames": 2, "gop": 1, "gom": 2, "iters": 10, "p_iters": 5, "threads": 2}
        a, b = tmp_path / "a.inr", tmp_path / "b.inr"
        fast_encode(SAMPLE_48, str(a), **options)
        fast_encode(SAMPLE_48, str(b), **options)
        assert a.read_bytes() == b.read_bytes()

    def test_different_seed_gives_different_bytes(self, tmp_path):
        options = {"frames": 1, "gop": 1, "gom": 1, "iters": 5}
        a, b = tmp_path / "a.inr", tmp_path / "b.inr"
        fast_encode(SAMPLE_48, str(a), seed=1, **options)
        fast_encode(SAMPLE_48, str(b), seed=2, **options)
        assert a.read_bytes() != b.read_bytes()


class TestFailedEncode:
    def test_interrupted_encode_leaves_no_file(self, tmp_path):
        def stop(*_args):
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            fast_encode(SAMPLE_48, str(tmp_path / "out.inr"), gop=4, gom=2, progress=stop)
        assert os.listdir(tmp_path) == []
