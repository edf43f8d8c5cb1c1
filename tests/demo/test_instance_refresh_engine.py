"""The demo's engine carries an instance refresh out (`wsfleet.demo.refresh`), stepped on a
synthetic clock: batches within MinHealthyPercentage (or launched first under
MaxHealthyPercentage), warm-up before the next batch, checkpoints, cancel, rollback, the warm
pool after the live pool, and the scaling activities AWS would record."""

from __future__ import annotations

import math

import pytest

from tests.demo.conftest import ended

REGION = "ap-northeast-3"  # this module's own: the demo backend is enabled per account and region


def launches(steps) -> list[tuple[float, set[str]]]:
    """(time, ids) of each step in which instances joined the group."""
    out, seen = [], set(v.id for v in steps[0].instances)
    for step in steps[1:]:
        new = {v.id for v in step.instances} - seen
        if new:
            out.append((step.t, new))
        seen |= new
    return out


def first_in_service(steps) -> dict[str, float]:
    out: dict[str, float] = {}
    for step in steps:
        for v in step.in_service():
            out.setdefault(v.id, step.t)
    return out


def healthy_counts(steps, started: float, warmup: float) -> list[int]:
    """InService instances each step that were there before the refresh or have warmed up."""
    since = first_in_service(steps)
    return [sum(1 for v in s.in_service() if v.launched_at < started or s.t - since[v.id] >= warmup) for s in steps]


@pytest.mark.desired(8)
def test_batches_never_leave_fewer_than_min_healthy_percentage_healthy_in_service(world, engine):
    version = world.new_version()
    world.start(version, MinHealthyPercentage=75, InstanceWarmup=4)
    steps = engine.run(ended)
    assert steps[-1].refresh.status == "Successful" and steps[-1].refresh.percentage_complete == 100
    floor_ = math.ceil(8 * 75 / 100)
    started = steps[0].refresh.started
    assert min(len(s.in_service()) for s in steps) == floor_  # it uses the room it has, no more
    assert min(healthy_counts(steps, started, 4)) >= floor_
    assert [len(ids) for _, ids in launches(steps)] == [2, 2, 2, 2]
    assert set(world.versions().values()) == {version} and len(world.versions()) == 8


def test_max_healthy_percentage_above_100_launches_first_and_never_dips_below_desired(world, engine):
    version = world.new_version()
    world.start(version, MinHealthyPercentage=100, MaxHealthyPercentage=150, InstanceWarmup=2)
    steps = engine.run(ended)
    assert steps[-1].refresh.status == "Successful"
    assert min(healthy_counts(steps, steps[0].refresh.started, 2)) >= 4
    assert max(len(s.instances) for s in steps) == 6  # 150 % of 4
    assert [len(ids) for _, ids in launches(steps)] == [2, 2]
    assert set(world.versions().values()) == {version} and len(world.versions()) == 4


def test_min_healthy_100_without_room_replaces_one_instance_at_a_time(world, engine):
    world.start(world.new_version(), MinHealthyPercentage=100, InstanceWarmup=0)
    steps = engine.run(ended)
    assert steps[-1].refresh.status == "Successful"
    assert [len(ids) for _, ids in launches(steps)] == [1, 1, 1, 1]


@pytest.mark.parametrize("warmup", [0, 10])
def test_instance_warmup_delays_the_next_batch(world, engine, warmup):
    world.start(world.new_version(), MinHealthyPercentage=75, InstanceWarmup=warmup)
    steps = engine.run(ended)
    since = first_in_service(steps)
    batches = launches(steps)
    assert len(batches) == 4
    for (_, previous), (at, _) in zip(batches, batches[1:]):
        ready_at = max(since[i] for i in previous) + warmup
        assert at == ready_at  # the next batch starts the step its predecessor is warm, not before


def test_without_instance_warmup_the_demo_waits_its_short_default(world, engine):
    world.start(world.new_version(), MinHealthyPercentage=75)
    steps = engine.run(ended)
    since, batches = first_in_service(steps), launches(steps)
    gaps = {at - max(since[i] for i in previous) for (_, previous), (at, _) in zip(batches, batches[1:])}
    assert gaps == {engine.engine.timing.refresh_warmup}


def test_a_checkpoint_pauses_the_refresh_for_the_checkpoint_delay(world, engine):
    world.start(world.new_version(), MinHealthyPercentage=75, InstanceWarmup=0, CheckpointPercentages=[50, 100], CheckpointDelay=30)
    steps = engine.run(ended)
    batches = launches(steps)
    since = first_in_service(steps)
    gaps = [at - max(since[i] for i in previous) for (_, previous), (at, _) in zip(batches, batches[1:])]
    assert gaps == [0, 30, 0]  # after the second of four (50 %), 30 s; none at 100 %
    paused = [s for s in steps if s.refresh.percentage_complete == 50 and s.refresh.status == "InProgress"]
    assert paused and world.describe()[0]["Status"] == "Successful"
    assert steps[-1].refresh.percentage_complete == 100


def test_the_status_reason_says_the_refresh_waits_at_its_checkpoint(world, engine):
    world.start(world.new_version(), MinHealthyPercentage=75, InstanceWarmup=0, CheckpointPercentages=[50, 100], CheckpointDelay=600)
    engine.run(lambda steps: "Checkpoint" in (world.describe()[0].get("StatusReason") or ""))
    (refresh,) = world.describe()
    assert (refresh["Status"], refresh["PercentageComplete"]) == ("InProgress", 50)
    assert "50%" in refresh["StatusReason"] and "600" in refresh["StatusReason"]
    waiting = engine.run(lambda steps: len(steps) > 100)  # 200 s of the 600
    assert launches(waiting) == [] and world.describe()[0]["Status"] == "InProgress"


def test_a_refresh_ends_at_its_last_checkpoint_below_100(world, engine):
    world.start(world.new_version(), MinHealthyPercentage=75, InstanceWarmup=0, CheckpointPercentages=[50])
    steps = engine.run(ended)
    assert (steps[-1].refresh.status, steps[-1].refresh.percentage_complete) == ("Successful", 50)
    assert sorted(world.versions().values()) == ["1", "1", "2", "2"]


def test_cancel_lets_the_batch_in_flight_finish_then_replaces_no_more(world, engine):
    world.start(world.new_version(), MinHealthyPercentage=75, InstanceWarmup=6)
    steps = engine.run(lambda s: len(launches(s)) == 1)  # the first replacement was just launched
    (replacement,) = launches(steps)[0][1]
    world.asg.cancel_instance_refresh(AutoScalingGroupName=world.name)
    more = engine.run(ended)
    assert more[-1].refresh.status == "Cancelled"
    since = first_in_service(steps + more)
    assert more[-1].t >= since[replacement] + 6  # it waited for the replacement to warm up
    assert launches(steps[-1:] + more) == []  # and launched nothing more
    assert sorted(world.versions().values()) == ["1", "1", "1", "2"]
    (refresh,) = world.describe()
    assert refresh["Status"] == "Cancelled" and "EndTime" in refresh


def test_rollback_replaces_the_updated_instances_with_the_previous_version(world, engine):
    version = world.new_version()
    world.start(version, MinHealthyPercentage=75, InstanceWarmup=0)
    engine.run(lambda s: s[-1].refresh.percentage_complete >= 50)  # two replaced, the third under way
    assert list(world.versions().values()).count(version) >= 2
    world.asg.rollback_instance_refresh(AutoScalingGroupName=world.name)
    steps = engine.run(ended)
    assert steps[-1].refresh.status == "RollbackSuccessful"
    assert set(world.versions().values()) == {"1"} and len(world.versions()) == 4
    group = world.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[world.name])["AutoScalingGroups"][0]
    assert group["LaunchTemplate"]["Version"] == "1"  # the group's own configuration never changed
    (refresh,) = world.describe()
    assert refresh["RollbackDetails"]["PercentageCompleteOnRollback"] == 50
    assert refresh["RollbackDetails"]["InstancesToUpdateOnRollback"] == 2
    assert min(len(s.in_service()) for s in steps) >= 3  # the rollback keeps MinHealthyPercentage too


def test_a_successful_refresh_makes_the_desired_configuration_the_groups(world, engine):
    version = world.new_version()
    world.start(version, MinHealthyPercentage=75, InstanceWarmup=0)
    engine.run(ended)
    group = world.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[world.name])["AutoScalingGroups"][0]
    assert group["LaunchTemplate"]["Version"] == version
    assert {i["LaunchTemplate"]["Version"] for i in group["Instances"]} == {version}


def test_skip_matching_leaves_instances_already_on_the_version(world, engine):
    world.use_version("$Latest")
    latest = world.new_version()
    world.asg.set_desired_capacity(AutoScalingGroupName=world.name, DesiredCapacity=5)  # one new instance on `latest`
    engine.run(lambda s: len(s[-1].in_service()) == 5)
    already = {i for i, v in world.versions().items() if v == latest}
    world.start(SkipMatching=True, MinHealthyPercentage=80, InstanceWarmup=0)
    assert world.describe()[0]["InstancesToUpdate"] == 4
    steps = engine.run(ended)
    assert steps[-1].refresh.status == "Successful"
    assert already <= set(world.versions()) and set(world.versions().values()) == {latest}


def test_the_warm_pool_is_refreshed_after_the_live_pool(world, engine):
    world.asg.put_warm_pool(AutoScalingGroupName=world.name, MinSize=2, MaxGroupPreparedCapacity=6, PoolState="Stopped")
    engine.run(lambda s: sum(v.lifecycle == "Warmed:Stopped" for v in world.group.warm_instances()) == 2)
    old_pool = {v.id for v in world.group.warm_instances()}
    version = world.new_version()
    world.start(version, MinHealthyPercentage=75, InstanceWarmup=0)
    (started,) = world.describe()
    assert started["ProgressDetails"]["WarmPoolProgress"] == {"PercentageComplete": 0, "InstancesToUpdate": 2}
    steps = engine.run(ended)
    assert steps[-1].refresh.status == "Successful"
    live_done = next(s.t for s in steps if set(v.launch_template_version for v in s.instances) == {version})
    pool = world.asg.describe_warm_pool(AutoScalingGroupName=world.name)["Instances"]
    assert not old_pool & {i["InstanceId"] for i in pool} and {i["LaunchTemplate"]["Version"] for i in pool} == {version}
    assert {i["LifecycleState"] for i in pool} == {"Warmed:Stopped"}
    acts = world.asg.describe_scaling_activities(AutoScalingGroupName=world.name)["Activities"]
    warm_terminations = [a for a in acts if a["Description"].startswith("Terminating EC2 instance from warm pool")]
    assert len(warm_terminations) == 2 and all(a["StartTime"].timestamp() <= steps[-1].t for a in warm_terminations)
    assert live_done <= steps[-1].t
    (refresh,) = world.describe()
    assert refresh["ProgressDetails"]["WarmPoolProgress"] == {"PercentageComplete": 100, "InstancesToUpdate": 0}


def test_replacements_are_recorded_as_scaling_activities_caused_by_the_refresh(world, engine):
    world.start(world.new_version(), MinHealthyPercentage=75, InstanceWarmup=0)
    engine.run(ended)
    acts = world.asg.describe_scaling_activities(AutoScalingGroupName=world.name)["Activities"]
    terminations = [a for a in acts if a["Description"].startswith("Terminating EC2 instance: ")]
    refresh_launches = [a for a in acts if a["Description"].startswith("Launching a new EC2 instance: ") and "refresh" in a["Cause"]]
    assert len(terminations) == 4 and len(refresh_launches) == 4
    assert all("taken out of service in response to an instance refresh" in a["Cause"] for a in terminations)
    assert all("launched in response to an instance refresh" in a["Cause"] for a in refresh_launches)
    assert all(a["StatusCode"] == "Successful" for a in terminations + refresh_launches)


def test_protected_instances_are_waited_for_and_the_refresh_fails_after_an_hour(world, engine):
    protected = sorted(world.versions())[0]
    world.asg.set_instance_protection(AutoScalingGroupName=world.name, InstanceIds=[protected], ProtectedFromScaleIn=True)
    world.start(world.new_version(), MinHealthyPercentage=75, InstanceWarmup=0)  # ScaleInProtectedInstances: Wait
    steps = engine.run(ended, step=60.0, limit=100)
    assert steps[-1].refresh.status == "Failed"
    assert protected in world.describe()[0]["StatusReason"]
    assert world.versions()[protected] == "1" and sorted(world.versions().values()).count("2") == 3
