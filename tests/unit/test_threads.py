"""The OpenMP spin count chosen before torch loads (issue 29): the policy, not its timing
(tools/bench_concurrent.py measures that)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inrcodec import threads
from inrcodec.threads import SPIN_BUSY, SPIN_QUIET, configure_openmp, own_choice_removed, spin_count

REPO = Path(__file__).resolve().parents[2]


class TestSpinCount:
    @pytest.mark.parametrize("n_cpus, n_threads, n_others, spin", [
        (2, 2, 0, SPIN_QUIET),   # a quiet two-core machine: libgomp's default spin
        (2, 2, 1, SPIN_BUSY),    # beside one training job: the other thread may not be running
        (2, 1, 1, SPIN_QUIET),
        (16, 2, 3, SPIN_QUIET),  # room for everyone
        (16, 16, 1, SPIN_BUSY),
    ])
    def test_sleep_at_once_only_when_the_cores_cannot_hold_everyone(self, n_cpus, n_threads, n_others, spin):
        assert spin_count(n_cpus, n_threads, n_others) == spin

    def test_busy_means_sleeping_at_once_and_quiet_is_libgomps_default(self):
        assert SPIN_BUSY == 0 and SPIN_QUIET is None


class TestConfigure:
    @staticmethod
    def configure(env, others, n_cpus=2, modules=()):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(threads, "_n_cpus", lambda: n_cpus)
            return configure_openmp(env, measure=lambda: others, modules=modules, has_torch=lambda: True)

    @pytest.mark.parametrize("others, value", [(1, str(SPIN_BUSY)), (5, str(SPIN_BUSY))])
    def test_sleeps_at_once_on_a_busy_machine(self, others, value):
        env = {}
        assert self.configure(env, others) == value and env == {"GOMP_SPINCOUNT": value}

    def test_leaves_libgomps_default_on_a_quiet_machine(self):
        env = {}
        assert self.configure(env, 0) is None and env == {}

    @pytest.mark.parametrize("setting", [{"OMP_WAIT_POLICY": "ACTIVE"}, {"OMP_WAIT_POLICY": "passive"},
                                         {"GOMP_SPINCOUNT": "7"}, {"GOMP_SPINCOUNT": ""}])
    def test_a_users_setting_is_kept(self, setting):
        env = dict(setting)
        assert self.configure(env, 0) is None and env == setting

    def test_one_thread_never_waits_for_another(self):
        env = {"OMP_NUM_THREADS": "1"}
        assert self.configure(env, 3) is None and env == {"OMP_NUM_THREADS": "1"}

    def test_the_thread_count_comes_from_omp_num_threads(self):
        assert self.configure({"OMP_NUM_THREADS": "4"}, 10, n_cpus=16) is None
        assert self.configure({"OMP_NUM_THREADS": "16"}, 1, n_cpus=16) == str(SPIN_BUSY)

    def test_too_late_once_torch_is_loaded(self):
        env = {}
        assert self.configure(env, 0, modules={"torch": None}) is None and env == {}

    def test_nothing_to_set_without_torch(self):
        env, looked = {}, []
        assert configure_openmp(env, measure=lambda: looked.append(1) or 0, modules=(),
                                has_torch=lambda: False) is None
        assert env == {} and looked == []  # a player-only install does not even look at the run queue

    def test_the_run_queue_is_read(self):
        assert threads.others_running(samples=2, gap_s=0.0) >= 0


class TestChildren:
    def test_a_later_child_decides_for_itself_unless_the_user_chose(self, monkeypatch):
        monkeypatch.setattr(threads, "_chosen", "0")
        assert own_choice_removed({"GOMP_SPINCOUNT": "0", "A": "b"}) == {"A": "b"}
        assert own_choice_removed({"GOMP_SPINCOUNT": "5"}) == {"GOMP_SPINCOUNT": "5"}
        monkeypatch.setattr(threads, "_chosen", None)
        assert own_choice_removed({"GOMP_SPINCOUNT": "1000"}) == {"GOMP_SPINCOUNT": "1000"}

    @pytest.mark.parametrize("setting, expect", [(None, {"0", "unset"}), ("77", {"77"})])
    def test_importing_the_package_sets_it_before_torch_loads(self, setting, expect):
        env = {k: v for k, v in os.environ.items() if k not in threads.USER_SETTINGS}
        if setting is not None:
            env["GOMP_SPINCOUNT"] = setting
        code = "import os, sys, inrcodec; assert 'torch' not in sys.modules; print(os.environ.get('GOMP_SPINCOUNT', 'unset'))"
        out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() in expect
