"""A job that keeps hitting its process cap is ended within seconds with `processes`, not at its wall clock.

The notebooks themselves run on every backend in test_sandbox_limits.py (and so on docker too); here is the rule
that tells a bomb from a burst, and the docker backend's reading of its container's counters.
"""

from __future__ import annotations

import pytest

from sandbox.backends import host
from sandbox.backends.docker import pids_counts

EVERY_S = host.PROCESS_CAP_SUSTAIN_S / 4


def readings(rule: host.ProcessCapRule, steps: list[tuple[int, int]], cap: int = 64) -> bool:
    """Feed (processes, refusals so far) readings a quarter of the sustain time apart; return whether it ended."""
    return any(rule.keeps_hitting(n, cap, refused, i * EVERY_S) for i, (n, refused) in enumerate(steps))


def test_a_job_at_its_cap_that_keeps_being_refused_is_ended_after_the_sustain_time():
    steps = [(64, refused) for refused in range(0, 20)]  # one more refusal at each reading
    rule = host.ProcessCapRule()
    assert readings(rule, steps)
    assert rule.at_cap_since == 0.0


def test_a_job_that_reached_its_cap_once_and_stays_there_without_retrying_is_not_ended():
    assert not readings(host.ProcessCapRule(), [(64, 1)] * 40)  # a pool that got all but one worker


def test_a_job_that_falls_back_below_its_cap_starts_the_count_again():
    stretch = [(64, 1), (64, 2), (64, 3), (64, 4), (10, 5)]  # at the cap for three quarters of the sustain time
    assert not readings(host.ProcessCapRule(), stretch * 6)


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("63\n64\nmax 17\n", (63, 64, 17)),  # cgroup v1 or v2: whichever set exists
        ("cat: /sys/fs/cgroup/pids/pids.current: No such file or directory\n12\n256\nmax 0\n", (12, 256, 0)),
        ("3\nmax\nmax 0\n", (3, 1 << 31, 0)),
        ("cat: no such file\n", None),
    ],
)
def test_the_docker_backend_reads_its_container_s_process_count_cap_and_refusals(text, counts):
    assert pids_counts(text) == counts


def test_a_job_that_keeps_far_more_threads_runnable_than_its_cpus_is_ended_after_the_sustain_time():
    rule = host.RunnableRule(cpus=1.0)
    assert rule.limit == host.RUNNABLE_MIN
    steps = [rule.keeps_spinning(rule.limit + 1, i * host.RUNNABLE_SUSTAIN_S / 4) for i in range(5)]
    assert steps[-1] and not any(steps[:-1])


def test_a_job_whose_runnable_threads_dip_to_its_limit_starts_the_count_again():
    rule = host.RunnableRule(cpus=1.0)
    over, under = rule.limit + 50, rule.limit
    readings = [over, over, over, over, under] * 4  # over for three quarters of the sustain time, then at the limit
    assert not any(rule.keeps_spinning(n, i * host.RUNNABLE_SUSTAIN_S / 4) for i, n in enumerate(readings))


def test_a_job_with_more_cpus_may_keep_more_threads_runnable():
    assert host.RunnableRule(cpus=4.0).limit == 4 * host.RUNNABLE_PER_CPU
    assert host.RunnableRule(cpus=0.5).limit == host.RUNNABLE_MIN
