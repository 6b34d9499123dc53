"""The player in the distribution's headless Chromium (playwright-core pointed at /usr/bin/chromium):
built with web/build.mjs, served by inrcodec.play's server, opened at ?src=...&check=1 for every golden
stream (frames as spec/conformance.md rules: MD5, or every sample within ±1 and at most 1 in 1000
differing), for every invalid stream (an error in the page, never 'done'), seeking and stepping,
and a screenshot.

The page decodes with a pool of workers (web/src/main.js, ``?workers=N``), frame n by worker n % N: the
golden streams, seeks and the layer selector run with ``workers=2`` and each test checks that the second
worker did render its share; ``workers=1`` and a pool whose second worker cannot read the file still play.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading

import numpy as np
import pytest

from inrcodec.play import make_server

from conftest import CONFORMANCE, WEB, golden_features

INVALID = os.path.join(CONFORMANCE, "invalid")


def expected(feature: str) -> dict:
    with open(os.path.join(CONFORMANCE, feature, "expected.json")) as f:
        return json.load(f)


def invalid_streams() -> list[dict]:
    with open(os.path.join(INVALID, "invalid.json")) as f:
        return json.load(f)["streams"]


@pytest.fixture(scope="module")
def dist(chromium, node, tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("web_dist"))
    subprocess.run([node, os.path.join(WEB, "build.mjs"), "--out", out], cwd=WEB, check=True, capture_output=True,
                   timeout=300)
    return out


@pytest.fixture(scope="module")
def server(dist):
    files = {f"/g/{f}.inr": os.path.join(CONFORMANCE, f, "stream.inr") for f in golden_features()}
    files.update({f"/bad/{s['stream']}": os.path.join(INVALID, s["stream"]) for s in invalid_streams()})
    srv = make_server(files, dist)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def run_jobs(node: str, chromium: str, base: str, jobs: list[dict]) -> list[dict]:
    """web/test/browser/run.mjs over ``jobs``: one result per job."""
    out = subprocess.run([node, os.path.join(WEB, "test", "browser", "run.mjs")], cwd=WEB, capture_output=True,
                         text=True, timeout=1800, check=True,
                         input=json.dumps({"chromium": chromium, "base": base, "jobs": jobs}))
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(results) == len(jobs), out.stderr[-2000:]
    return results


POOL = "workers=2"


def md5s(feature: str) -> list[str]:
    return [fr["md5"] for fr in expected(feature)["frames"]]


@pytest.fixture(scope="module")
def checked(node, chromium, server) -> dict[str, dict]:
    """Every golden stream through ?check=1 with two workers, in one browser."""
    jobs = [{"kind": "check", "src": f"/g/{f}.inr", "expected": md5s(f), "query": POOL} for f in golden_features()]
    return {f: r for f, r in zip(golden_features(), run_jobs(node, chromium, server, jobs))}


def assert_pool_shared(r: dict, n_frames: int) -> None:
    """check=1 with workers=2: frame n by worker n % 2, none dropped."""
    pool = r["pool"]
    assert pool["workers"] == 2 and pool["dropped"] == [], pool
    assert pool["frames"] == [(n_frames + 1) // 2, n_frames // 2], pool


@pytest.mark.parametrize("feature", golden_features())
def test_golden_stream_plays_in_chromium(checked, feature):
    r, e = checked[feature], expected(feature)
    assert r["status"] == "done" and not r["error"], r.get("failed") or r["status"]
    assert r["pageErrors"] == []
    assert [int(i) for i, _ in r["frames"]] == list(range(e["n_frames"]))
    assert_pool_shared(r, e["n_frames"])
    with np.load(os.path.join(CONFORMANCE, feature, e["frame_planes"])) as z:
        differ = total = 0
        for i, md5 in r["frames"]:
            planes = [z[f"{i}_{p}"] for p in "yuv"]
            total += sum(p.size for p in planes)
            if md5 == e["frames"][int(i)]["md5"]:
                continue
            for got, want in zip(r["samples"][i], planes):
                d = np.abs(np.asarray(got, np.int64).reshape(want.shape) - want.astype(np.int64))
                assert d.max() <= e["max_abs_diff"], f"{feature} frame {i}: a sample differs by {d.max()}"
                differ += int((d > 0).sum())
    assert differ * 1000 <= total, f"{feature}: {differ} of {total} samples differ"


def test_invalid_streams_are_an_error_in_the_page(node, chromium, server):
    streams = invalid_streams()
    results = run_jobs(node, chromium, server,
                       [{"kind": "check", "src": f"/bad/{s['stream']}", "query": POOL} for s in streams])
    for s, r in zip(streams, results):
        assert "failed" not in r, f"{s['name']}: {r.get('failed')}"
        assert r["error"] and r["status"] != "done", f"{s['name']} ({s['rule']}): the page said {r['status']!r}"
        assert s["error"] in r["status"], f"{s['name']}: {s['error']} expected, the page said {r['status']!r}"
        assert r["pageErrors"] == []


def test_a_missing_url_is_an_error_in_the_page(node, chromium, server):
    (r,) = run_jobs(node, chromium, server, [{"kind": "check", "src": "/g/NO_SUCH.inr"}])
    assert r["error"] and "404" in r["status"]


@pytest.mark.parametrize("workers", [2, 1])
def test_seek_and_step_land_on_the_exact_frame(node, chromium, server, checked, workers):
    feature = "MULTIGOM_A"  # 12 frames, 3 GOMs: seeks cross GOMs both ways
    targets = [7, 2, 11, 5, 0, 9]
    (r,) = run_jobs(node, chromium, server, [{"kind": "seek", "src": f"/g/{feature}.inr", "targets": targets,
                                              "query": f"workers={workers}", "waitPool": True}])
    assert "failed" not in r, r.get("failed")
    md5 = dict(checked[feature]["frames"])
    n = expected(feature)["n_frames"]
    shown = [s["n"] for s in r["seen"]]
    assert shown == targets + [targets[-1] - 1, targets[-1]]
    for s in r["seen"]:
        assert s["md5"] == md5[str(s["n"])], f"frame {s['n']} shown is not the frame check=1 decoded"
        assert s["pos"] == f"{s['n'] + 1} / {n}"
    pool = r["pool"]
    assert pool["workers"] == workers and pool["ready"] == workers and pool["dropped"] == [], pool
    if workers == 2:  # odd frames (7, 11, 5, 9, 9) by the second worker once both were ready
        assert pool["frames"][1] >= 4, pool


def test_one_worker_still_plays(node, chromium, server, checked):
    """?workers=1: one worker (with all the threads) decodes every frame, the very frames two workers
    decode (the same MD5s; a few golden streams are within spec/conformance.md's ±1, not exact)."""
    features = ["LAYERS_A", "MULTIGOM_A", "NIRVANA_A", "HINERV_A"]
    features = [f for f in features if f in golden_features()]
    jobs = [{"kind": "check", "src": f"/g/{f}.inr", "expected": md5s(f), "query": "workers=1"} for f in features]
    jobs.append({"kind": "open", "src": "/g/MULTIGOM_A.inr", "playMs": 300, "query": "workers=1"})
    *results, played = run_jobs(node, chromium, server, jobs)
    for f, r in zip(features, results):
        assert r["status"] == "done" and not r["error"], f"{f}: {r.get('failed') or r['status']}"
        assert r["frames"] == checked[f]["frames"], f
        assert r["pool"]["workers"] == 1 and r["pool"]["frames"] == [len(md5s(f))], r["pool"]
        assert r["pageErrors"] == []
    assert "failed" not in played and not played["error"], played.get("failed") or played["status"]
    assert played["shown"]["n"] >= 1 and played["pool"]["workers"] == 1


def test_a_worker_that_cannot_start_leaves_the_others_playing(node, chromium, server, checked):
    """The second worker's fetch of the file answers HTTP 500: it is dropped, worker 0 decodes every frame
    (the same MD5s as with two), and the page shows no error."""
    feature = "MULTIGOM_A"
    (r,) = run_jobs(node, chromium, server, [{"kind": "check", "src": f"/g/{feature}.inr", "expected": md5s(feature),
                                              "query": POOL, "failAfter": 1}])
    assert r["status"] == "done" and not r["error"], r.get("failed") or r["status"]
    assert r["frames"] == checked[feature]["frames"]
    pool = r["pool"]
    assert pool["frames"] == [len(md5s(feature)), 0], pool
    assert len(pool["dropped"]) == 1 and "HTTP 500" in pool["dropped"][0], pool
    assert r["pageErrors"] == []


def test_the_layer_selector_decodes_the_first_layers(node, chromium, server):
    """LAYERS_A has three layers: with the selector at 1, frame 0 is the base layer's, as inrcodec
    decodes it with layers=1 (within spec/conformance.md's ±1), and not the three layers' frame."""
    from inrcodec.api import open as open_inr

    feature = "LAYERS_A"
    (r,) = run_jobs(node, chromium, server, [{"kind": "layers", "src": f"/g/{feature}.inr", "k": 1, "more": [1],
                                              "query": POOL, "waitPool": True}])
    assert "failed" not in r, r.get("failed")
    assert r["before"]["options"] == ["1", "2", "3"]
    assert r["before"]["md5"] == expected(feature)["frames"][0]["md5"]
    # frame 1 by the second worker: the selector reached it too
    assert r["pool"]["ready"] == 2 and r["pool"]["frames"][1] >= 1, r["pool"]
    with open_inr(os.path.join(CONFORMANCE, feature, "stream.inr"), layers=1) as f:
        base = [f[0], f[1]]
    for samples, frame in zip([r["samples"]] + r["more"], base):
        for got, want in zip(samples, frame):
            d = np.abs(np.asarray(got, np.int64).reshape(want.shape) - want.astype(np.int64))
            assert d.max() <= 1 and (d > 0).sum() * 1000 <= d.size
    with open_inr(os.path.join(CONFORMANCE, feature, "stream.inr")) as f:
        for samples, k in zip([r["samples"]] + r["more"], [0, 1]):
            assert any(not np.array_equal(np.asarray(g).reshape(w.shape), w) for g, w in zip(samples, f[k]))


def test_page_opens_plays_and_takes_a_screenshot(node, chromium, server, tmp_path):
    shot = tmp_path / "player.png"
    (r,) = run_jobs(node, chromium, server, [{"kind": "open", "src": "/g/MULTIGOM_A.inr", "playMs": 300,
                                              "screenshot": str(shot)}])
    assert "failed" not in r and not r["error"], r.get("failed") or r["status"]
    assert r["timing"]["firstFrame"] > r["timing"]["open"]
    assert r["shown"]["n"] >= 1, "playing did not advance past the first frame"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
