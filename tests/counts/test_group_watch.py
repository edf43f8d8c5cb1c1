"""`check --wait` re-reads the group every sweep for one DescribeAutoScalingGroups (plus the
launch template's resolution when the group names "$Latest"): EC2 is asked only about new instances."""

from __future__ import annotations

from moto import mock_aws

from tests.helpers.moto_fleet import make_fleet
from wsfleet.aws.session import AwsSession
from wsfleet.commands.check_wait import GroupWatch
from wsfleet.model import FleetConfig


class Operations:
    def __init__(self, session: AwsSession) -> None:
        self.seen: list[str] = []
        for service in ("autoscaling", "ec2"):
            session.client(service).meta.events.register("before-call", self)

    def __call__(self, model=None, **_) -> None:
        self.seen.append(model.name)

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return sorted(seen)


def test_each_read_asks_ec2_only_about_instances_it_has_not_seen():
    with mock_aws():
        session = AwsSession(FleetConfig(name="f", asg="prod-chat-asg", region="us-east-1"))
        fleet = make_fleet(session, instances=3)
        watch = GroupWatch(session, "prod-chat-asg")
        ops = Operations(session)

        first = watch.read()
        assert ops.take() == ["DescribeAutoScalingGroups", "DescribeInstances", "DescribeLaunchTemplates"]
        assert all(i.private_ip for i in first.instances)
        assert first.launch_template.current_version == "1"

        again = watch.read()
        assert ops.take() == ["DescribeAutoScalingGroups", "DescribeLaunchTemplates"]
        assert again == first

        session.client("autoscaling").set_desired_capacity(AutoScalingGroupName="prod-chat-asg", DesiredCapacity=4)
        ops.take()
        grown = watch.read()
        assert ops.take() == ["DescribeAutoScalingGroups", "DescribeInstances", "DescribeLaunchTemplates"]
        assert len(grown.instances) == 4 and all(i.private_ip for i in grown.instances)

        session.client("autoscaling").detach_instances(
            InstanceIds=[fleet["instance_ids"][0]], AutoScalingGroupName="prod-chat-asg", ShouldDecrementDesiredCapacity=True)
        ops.take()
        shrunk = watch.read()
        assert ops.take() == ["DescribeAutoScalingGroups", "DescribeLaunchTemplates"]
        assert fleet["instance_ids"][0] not in {i.id for i in shrunk.instances}


def test_a_launch_template_that_cannot_be_resolved_leaves_current_unknown():
    import botocore.awsrequest

    from wsfleet.counts import targets_for

    with mock_aws():
        fleet = FleetConfig(name="f", asg="prod-chat-asg", region="us-east-1")
        session = AwsSession(fleet)
        make_fleet(session, instances=2)

        def deny(**_):
            response = botocore.awsrequest.AWSResponse("https://ec2", 403, {}, None)
            return response, {"Error": {"Code": "UnauthorizedOperation", "Message": "denied"}, "ResponseMetadata": {}}

        session.client("ec2").meta.events.register("before-call.ec2.DescribeLaunchTemplates", deny)
        watch = GroupWatch(session, "prod-chat-asg")
        group = watch.read()
        assert group.launch_template.current_version is None  # "$Latest", unresolved
        assert [t.current for t in targets_for(fleet, group)] == [None, None]
        assert [t.launch_template_version for t in targets_for(fleet, group)] == ["1", "1"]
        assert len(watch.problems) == 1 and "ec2:DescribeLaunchTemplates" in watch.problems[0]
