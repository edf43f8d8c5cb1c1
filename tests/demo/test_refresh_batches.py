"""How many instances the next batch of an instance refresh replaces (`refresh.batch_size`), and
its percentages: AWS's rules for MinHealthyPercentage and MaxHealthyPercentage, as pure numbers."""

from __future__ import annotations

import pytest

from wsfleet.demo.refresh import BatchSize, batch_size, percent


@pytest.mark.parametrize(
    "desired, min_healthy, expected",
    [(4, 75, 1), (4, 50, 2), (8, 75, 2), (10, 90, 1), (4, 0, 4), (20, 90, 2)],
)
def test_terminate_first_batches_keep_ceil_of_min_healthy_percentage(desired, min_healthy, expected):
    size = batch_size(desired=desired, healthy=desired, live=desired, replaceable=desired, min_healthy=min_healthy, max_healthy=None)
    assert size == BatchSize(expected, launch_first=False)


def test_no_room_at_100_percent_or_one_instance_replaces_one_at_a_time():
    assert batch_size(desired=4, healthy=4, live=4, replaceable=4, min_healthy=100, max_healthy=100).count == 1
    assert batch_size(desired=1, healthy=1, live=1, replaceable=1, min_healthy=90, max_healthy=None).count == 1


def test_an_unhealthy_instance_leaves_no_room_until_it_recovers():
    assert batch_size(desired=4, healthy=3, live=4, replaceable=3, min_healthy=75, max_healthy=None).count == 0
    assert batch_size(desired=4, healthy=3, live=4, replaceable=3, min_healthy=100, max_healthy=None).count == 0


def test_max_healthy_above_100_launches_first_up_to_its_share_and_at_least_one():
    assert batch_size(desired=4, healthy=4, live=4, replaceable=4, min_healthy=100, max_healthy=150) == BatchSize(2, True)
    assert batch_size(desired=4, healthy=4, live=4, replaceable=4, min_healthy=100, max_healthy=110) == BatchSize(1, True)
    assert batch_size(desired=4, healthy=4, live=6, replaceable=4, min_healthy=100, max_healthy=150).count == 0


def test_the_batch_is_never_larger_than_what_can_be_replaced():
    assert batch_size(desired=8, healthy=8, live=8, replaceable=1, min_healthy=50, max_healthy=None).count == 1


def test_percent_is_whole_and_rounded_down_so_100_means_done():
    assert [percent(d, 6) for d in range(7)] == [0, 16, 33, 50, 66, 83, 100]
    assert percent(0, 0) == 100
