"""inrcodec.bench.run without encoding: options, the BD-rate table over result rows, reports."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from inrcodec.bench.run import BenchOptions, bd_table, clip_dirs, format_report, summary_markdown
from inrcodec.errors import InrInputError

# x265 veryslow on the 60-frame carphone clip (bpp, PSNR-YUV), with made-up MS-SSIM values.
X265 = [(0.024, 31.87, 0.950), (0.042, 34.49, 0.968), (0.074, 37.36, 0.980), (0.136, 40.42, 0.989),
        (0.260, 43.34, 0.994)]
SAMPLE = str(Path(__file__).resolve().parents[2] / "samples" / "carphone_48x32_8f.y4m")


def row(codec, setting, rate, psnr, msssim):
    """A result row with the fields the table and reports read."""
    return {"codec": codec, "preset": "x", "setting": setting, "bpp": rate, "psnr_y": psnr - 1, "psnr_yuv": psnr,
            "ms_ssim_y": msssim, "enc_seconds": 1.0, "enc_rss_kb": 1024, "decode_fps": 30.0,
            "decode_fps_no_startup": 300.0, "dec_rss_kb": 2048}


def rows_for(codec, points, scale=1.0):
    """Rows of one codec, every rate times ``scale``."""
    return [row(codec, f"p{i}", r * scale, q, m) for i, (r, q, m) in enumerate(points)]


class TestBdTable:
    def test_identical_curves_give_zero(self):
        table = bd_table(rows_for("x265", X265) + rows_for("inrcodec", X265))
        assert table["x265"]["psnr_yuv"]["value"] == pytest.approx(0.0, abs=1e-12)
        assert table["x265"]["ms_ssim_y"]["value"] == pytest.approx(0.0, abs=1e-12)
        assert table["x265"]["bd_psnr_yuv"]["value"] == pytest.approx(0.0, abs=1e-12)

    def test_ten_percent_fewer_bits_at_the_same_quality(self):
        table = bd_table(rows_for("x264", X265) + rows_for("inrcodec", X265, 0.9))
        for key in ("psnr_yuv", "ms_ssim_y"):
            assert table["x264"][key]["value"] == pytest.approx(-10.0, abs=0.1)
            assert table["x264"][key]["unit"] == "%" and table["x264"][key]["reason"] is None

    def test_curves_that_do_not_overlap_are_reported(self):
        high = [(r * 4, q + 20, 0.999) for r, q, _ in X265]
        table = bd_table(rows_for("svt-av1", X265) + rows_for("inrcodec", high))
        entry = table["svt-av1"]["psnr_yuv"]
        assert entry["value"] is None and entry["reason"].startswith("no overlap")
        assert entry["text"].startswith("n/a (no overlap")

    def test_missing_ms_ssim_and_single_points_give_reasons(self):
        tiny = [(r, q, None) for r, q, _ in X265]
        table = bd_table(rows_for("x264", tiny) + rows_for("inrcodec", tiny))
        assert table["x264"]["psnr_yuv"]["value"] == pytest.approx(0.0, abs=1e-12)
        assert "11x11" in table["x264"]["ms_ssim_y"]["reason"]
        table = bd_table(rows_for("x264", X265) + rows_for("inrcodec", X265[:1]))
        assert "at least 2 points" in table["x264"]["psnr_yuv"]["reason"]

    def test_repeated_quality_is_a_reason_not_a_crash(self):
        flat = [(0.1, 35.0, 0.98), (0.2, 35.0, 0.99)]
        assert "same quality" in bd_table(rows_for("x264", X265) + rows_for("inrcodec", flat))["x264"]["psnr_yuv"][
            "reason"]

    def test_no_table_without_inrcodec(self):
        assert bd_table(rows_for("x264", X265)) == {}


class TestOptions:
    def test_defaults(self):
        opts = BenchOptions().check()
        assert opts.codecs == ("inrcodec", "x264", "x265", "svt-av1") and len(opts.qualities) == 4
        assert opts.anchor_qps("x265") == (22, 27, 32, 37, 42) and opts.anchor_preset("svt-av1") == "0"

    def test_from_strings(self):
        opts = BenchOptions.from_strings(qualities="1,3", codecs="inrcodec,x265", qps_x265="30, 35", gop=8,
                                         av1_preset="6", threads=None)
        assert opts.qualities == (1, 3) and opts.codecs == ("inrcodec", "x265") and opts.gop == 8
        assert opts.anchor_qps("x265") == (30, 35) and opts.anchor_preset("svt-av1") == "6"
        assert opts.threads is None

    @pytest.mark.parametrize("kwargs, message", [
        ({"codecs": "inrcodec,vp9"}, "unknown codec 'vp9'"),
        ({"codecs": "x264,x264"}, "named twice"),
        ({"codecs": ","}, "at least one codec"),
        ({"qualities": "2,x"}, "comma-separated integers"),
        ({"qualities": "0"}, "not one of 1..9"),
        ({"qps_x264": "22,60"}, "QP 60 outside 0..51"),
        ({"qps_av1": ""}, "at least one value"),
        ({"av1_preset": "veryslow"}, "unknown preset"),
        ({"preset": "turbo"}, "--preset"),
        ({"device": "tpu"}, "--device"),
        ({"gop": 0}, "--gop must be >= 1"),
        ({"threads": -1}, "--threads must be >= 1"),
    ])
    def test_rejects_bad_values(self, kwargs, message):
        with pytest.raises(InrInputError, match=message):
            BenchOptions.from_strings(**kwargs)

    def test_command_repeats_the_run(self):
        opts = BenchOptions.from_strings(qualities="1,2", codecs="inrcodec,svt-av1", gop=4, iters=20,
                                         out=Path("/tmp/x y"))
        words = shlex.split(opts.command(["a.y4m"]))
        assert words[:3] == ["inrcodec", "bench", "a.y4m"]
        pairs = dict(zip(words[3::2], words[4::2]))
        assert pairs["--qualities"] == "1,2" and pairs["--gop"] == "4" and pairs["--iters"] == "20"
        assert pairs["--qps-av1"] == "30,38,46,54,63" and pairs["--av1-preset"] == "0"
        assert pairs["--out"] == "/tmp/x y" and "--qps-x264" not in pairs


def test_clip_dirs_reject_missing_clips_and_shared_names(tmp_path):
    assert clip_dirs([SAMPLE], tmp_path) == [(Path(SAMPLE), tmp_path / "carphone_48x32_8f")]
    with pytest.raises(InrInputError, match="clip not found"):
        clip_dirs([str(tmp_path / "none.y4m")], tmp_path)
    (tmp_path / "a").mkdir()
    copy = tmp_path / "a" / "carphone_48x32_8f.y4m"
    copy.write_bytes(Path(SAMPLE).read_bytes())
    with pytest.raises(InrInputError, match="share the name"):
        clip_dirs([SAMPLE, str(copy)], tmp_path)


def test_reports_show_points_and_bd_rates():
    opts = BenchOptions().check()
    rows = rows_for("x265", X265) + rows_for("inrcodec", X265, 2.0)
    result = {"clip": "/c/carphone.y4m", "command": "inrcodec bench carphone.y4m",
              "video": {"width": 176, "height": 144, "n_frames": 60, "pix_fmt": "yuv420p"},
              "points": rows, "bd_rate": bd_table(rows), "skipped": {"svt-av1": "4:2:0 only"}}
    text = format_report(result, opts)
    assert "x265 veryslow" in text and "BD-rate +100.00%" in text and "svt-av1: skipped (4:2:0 only)" in text
    md = summary_markdown(result, opts)
    assert md.startswith("`inrcodec bench carphone.y4m`")
    assert "| x265 veryslow | +100.00% | +100.00% |" in md


def test_encoder_options_pass_through_to_enc(tmp_path):
    from inrcodec.bench.run import encode_cmd
    opts = BenchOptions.from_strings(model="nirvana", patch_size=16, mlp_width=48, loss="ms-ssim",
                                     perceptual_weights=str(tmp_path), qualities="2")
    cmd = encode_cmd(Path("in.y4m"), Path("out.inr"), 2, opts)
    for flag, value in (("--model", "nirvana"), ("--patch-size", "16"), ("--mlp-width", "48"),
                        ("--loss", "ms-ssim"), ("--perceptual-weights", str(tmp_path))):
        assert cmd[cmd.index(flag) + 1] == value
    assert "--mlp-depth" not in encode_cmd(Path("a"), Path("b"), 2, BenchOptions())
    assert "--model nirvana --patch-size 16 --mlp-width 48" in opts.command(["c.y4m"])


class TestRandomAccess:
    """An anchor gets the .inr file's random-access period: a key frame every GOP × GOM frames (issue 28)."""

    @pytest.mark.parametrize("gop, gom", [(30, 2), (8, 1), (4, 5)])
    def test_anchors_get_a_key_frame_every_gop_times_gom(self, gop, gom):
        from inrcodec.bench.run import Point, anchor_encode_cmd
        opts = BenchOptions.from_strings(gop=gop, gom=gom, threads=1)
        assert opts.keyint == gop * gom
        for name in ("x264", "x265", "svt-av1"):
            cmd = anchor_encode_cmd(Path("in.y4m"), Path("a.bin"), Point(name, 30), opts)
            assert cmd[cmd.index("--keyint") + 1] == str(gop * gom), name
            assert "--gop" not in cmd

    def test_reports_say_the_period(self):
        opts = BenchOptions.from_strings(gop=30, gom=2)
        rows = rows_for("x265", X265) + rows_for("inrcodec", X265, 2.0)
        result = {"clip": "/c/carphone.y4m", "command": "inrcodec bench carphone.y4m",
                  "video": {"width": 176, "height": 144, "n_frames": 60, "pix_fmt": "yuv420p"},
                  "points": rows, "bd_rate": bd_table(rows), "skipped": {}}
        for text in (format_report(result, opts), summary_markdown(result, opts)):
            assert "a key frame every 60 frames for the anchors" in text


def test_a_rerun_replaces_its_own_outputs():
    from inrcodec.bench.run import decode_cmd, encode_cmd
    assert "-y" in encode_cmd(Path("a"), Path("b"), 2, BenchOptions())
    assert "-y" in decode_cmd(Path("a"), Path("b"))


def test_quality_metrics_report_ssim_and_the_deep_distance_when_weights_are_given(tmp_path):
    import numpy as np
    import torch

    from inrcodec.bench.run import quality_metrics
    from inrcodec.io.video import open_video

    g = torch.Generator().manual_seed(0)
    state = {}
    for i, shape in {0: (4, 3, 11, 11), 3: (8, 4, 5, 5), 6: (8, 8, 3, 3), 8: (8, 8, 3, 3), 10: (8, 8, 3, 3)}.items():
        state[f"features.{i}.weight"] = torch.randn(shape, generator=g) * 0.1
        state[f"features.{i}.bias"] = torch.zeros(shape[0])
    torch.save(state, tmp_path / "alexnet.pth")
    with open_video(Path(__file__).resolve().parents[2] / "samples" / "carphone_48x32_8f.y4m") as video:
        info, frames = video.info, list(video)
    same = quality_metrics(frames, frames, info, str(tmp_path))
    assert same["ssim_y"] == pytest.approx(1.0) and same["deep_distance"] == pytest.approx(0.0, abs=1e-6)
    noisy = [tuple(np.clip(p.astype(int) + 12 * (np.indices(p.shape).sum(0) % 2), 0, 255).astype(np.uint8)
                   for p in f) for f in frames]
    worse = quality_metrics(frames, noisy, info, str(tmp_path))
    assert worse["ssim_y"] < 1 and worse["deep_distance"] > 0
    assert "deep_distance" not in quality_metrics(frames, noisy, info)
