"""Plays SSM and its agents for one boto3 `ssm` client, on this machine, without moto or network.

botocore `before-call` handlers answer SendCommand, ListCommandInvocations,
GetCommandInvocation and DescribeInstanceInformation. SendCommand really runs the command it is
given with /bin/sh (as the SSM agent would on each instance; all "instances" are this machine),
so the output the source parses is the real count of held connections. Per-instance faults:
unmanaged (SendCommand fails with InvalidInstanceId), failed, timed out, undeliverable, garbage
output, or still running for N polls. `moto_sends=True` leaves SendCommand to moto (which records
the call) and takes the command text from moto's ListCommands.
"""

from __future__ import annotations

import io
import json
import subprocess
import uuid

from botocore.awsrequest import AWSResponse


def _reply(parsed: dict, status: int = 200):
    return AWSResponse("https://ssm.fake", status, {}, io.BytesIO(b"")), parsed


def _error(code: str, message: str):
    return _reply({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}, 400)


class FakeSsm:
    def __init__(self, client, *, unmanaged=(), failing=None, timed_out=(), undeliverable=(), garbage=None,
                 running_polls: int = 0, never_finish=(), moto_sends: bool = False, access_denied: bool = False) -> None:
        self.client = client
        self.unmanaged = set(unmanaged)
        self.failing = dict(failing or {})  # id -> (exit code, stderr)
        self.timed_out = set(timed_out)
        self.undeliverable = set(undeliverable)
        self.garbage = dict(garbage or {})  # id -> stdout
        self.running_polls = running_polls
        self.never_finish = set(never_finish)
        self.access_denied = access_denied
        self.sends: list[dict] = []  # the SendCommand parameters, in order
        self.polls = 0
        self._commands: dict[str, dict] = {}  # command id -> {"ids", "stdout", "stderr", "code"}
        events = client.meta.events
        if not moto_sends:
            events.register("before-call.ssm.SendCommand", self._send)
        else:
            events.register("after-call.ssm.SendCommand", self._moto_sent)
        events.register("before-call.ssm.ListCommandInvocations", self._list)
        events.register("before-call.ssm.GetCommandInvocation", self._get)
        events.register("before-call.ssm.DescribeInstanceInformation", self._describe)

    @staticmethod
    def _params(params) -> dict:
        body = params.get("body") or b"{}"
        return json.loads(body.decode() if isinstance(body, bytes) else body)

    @staticmethod
    def _run(commands: list[str]) -> tuple[str, str, int]:
        done = subprocess.run(["/bin/sh", "-c", "\n".join(commands)], capture_output=True, text=True, timeout=30)
        return done.stdout, done.stderr, done.returncode

    def _record(self, command_id: str, ids: list[str], commands: list[str]) -> None:
        stdout, stderr, code = self._run(commands)
        self._commands[command_id] = {"ids": list(ids), "stdout": stdout, "stderr": stderr, "code": code}

    def _send(self, params, **_):
        request = self._params(params)
        self.sends.append(request)
        if self.access_denied:
            return _error("AccessDeniedException", "User: arn:aws:iam::123456789012:user/oncall is not authorized to perform: ssm:SendCommand")
        ids = request["InstanceIds"]
        if self.unmanaged & set(ids):
            return _error("InvalidInstanceId", "Instances not in a valid state for account")
        command_id = str(uuid.uuid4())
        self._record(command_id, ids, request["Parameters"]["commands"])
        return _reply({"Command": {"CommandId": command_id, "InstanceIds": ids, "Status": "Pending"}})

    def _moto_sent(self, parsed, **_):
        command = parsed["Command"]
        self.sends.append({"InstanceIds": command["InstanceIds"], "Parameters": command["Parameters"],
                           "DocumentName": command["DocumentName"]})
        self._record(command["CommandId"], command["InstanceIds"], command["Parameters"]["commands"])

    def _invocation(self, command_id: str, instance_id: str) -> dict:
        run = self._commands[command_id]
        status, details, stdout, stderr, code = "Success", "Success", run["stdout"], run["stderr"], run["code"]
        if code != 0:
            status = details = "Failed"
        if instance_id in self.failing:
            code, stderr = self.failing[instance_id]
            status = details = "Failed"
            stdout = ""
        elif instance_id in self.timed_out:
            status, details, stdout, code = "TimedOut", "ExecutionTimedOut", "", -1
        elif instance_id in self.undeliverable:
            status, details, stdout, code = "Failed", "Undeliverable", "", -1
        elif instance_id in self.garbage:
            stdout = self.garbage[instance_id]
        if self.polls <= self.running_polls or instance_id in self.never_finish:
            status = details = "InProgress"
        output = stdout + (f"\n----------ERROR-------\n{stderr}" if stderr else "")
        return {"CommandId": command_id, "InstanceId": instance_id, "Status": status, "StatusDetails": details,
                "StandardOutputContent": stdout, "StandardErrorContent": stderr,
                "CommandPlugins": [{"Name": "aws:runShellScript", "Status": status, "StatusDetails": details,
                                    "ResponseCode": code, "Output": output[:2500]}]}

    def _list(self, params, **_):
        self.polls += 1
        request = self._params(params)
        run = self._commands.get(request["CommandId"])
        if run is None:
            return _error("InvalidCommandId", "no such command")
        return _reply({"CommandInvocations": [self._invocation(request["CommandId"], i) for i in run["ids"]]})

    def _get(self, params, **_):
        request = self._params(params)
        found = self._invocation(request["CommandId"], request["InstanceId"])
        return _reply({k: v for k, v in found.items() if k != "CommandPlugins"} | {"ResponseCode": found["CommandPlugins"][0]["ResponseCode"]})

    def _describe(self, params, **_):
        request = self._params(params)
        wanted = [v for f in request.get("Filters", ()) if f["Key"] == "InstanceIds" for v in f["Values"]]
        return _reply({"InstanceInformationList": [{"InstanceId": i, "PingStatus": "Online"} for i in wanted if i not in self.unmanaged]})
