"""Connection counts through AWS Systems Manager, for fleets where SSH is closed.

`SendCommand` with `AWS-RunShellScript` and the same count command as ssh, up to 50 instance ids
a call (AWS's limit), then the invocations are polled with `ListCommandInvocations` (Details, one
call per 50 invocations) until each has finished or the overall timeout passes. Output goes through
the same parser. Rows stream as invocations finish.

Per-instance outcomes: not managed by SSM / undeliverable -> `not-found`; the command failed or
was cancelled -> `command`; delivery or execution timed out, or still running at the overall
timeout -> `timeout`; SSM's AccessDenied for the instance -> `auth`; unparsable output -> `parse`.
A failure of the whole call (access denied to ssm:SendCommand, no credentials) raises AwsError.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator, Sequence

from wsfleet.aws.errors import AwsCallError, aws_errors
from wsfleet.errors import AwsError
from wsfleet.counts.base import failed, measured
from wsfleet.counts.command import CountParseError, count_command, parse_count
from wsfleet.model import CountTarget, FleetConfig, InstanceCount

log = logging.getLogger(__name__)

IDS_PER_COMMAND = 50  # SendCommand's limit on InstanceIds
MIN_OVERALL_TIMEOUT_S = 30.0  # SSM delivery alone takes seconds; counts.timeout (per ssh host) is too short
DOCUMENT = "AWS-RunShellScript"
_ERROR_MARK = "----------ERROR-------"  # how SSM appends stderr to a plugin's Output
_RUNNING = {"Pending", "InProgress", "Delayed", "Cancelling"}


def _batches(targets: Sequence[CountTarget]) -> list[tuple[int, list[CountTarget]]]:
    """Targets grouped by service port (one command text each), at most 50 per group."""
    by_port: dict[int, list[CountTarget]] = {}
    for t in targets:
        by_port.setdefault(t.service_port, []).append(t)
    return [(port, group[i:i + IDS_PER_COMMAND]) for port, group in by_port.items() for i in range(0, len(group), IDS_PER_COMMAND)]


class SsmSource:
    name = "ssm"

    def __init__(self, session, fleet: FleetConfig, *, overall_timeout: float | None = None,
                 poll_interval: float = 1.0) -> None:
        self._session = session
        self._fleet = fleet
        self._timeout = overall_timeout if overall_timeout is not None else max(float(fleet.counts.timeout), MIN_OVERALL_TIMEOUT_S)
        self._poll = poll_interval
        self._lock = asyncio.Lock()

    @property
    def _ssm(self):
        return self._session.client("ssm")

    # ------------------------------------------------------------------ AWS calls (run in a thread)

    def _send(self, port: int, ids: list[str]) -> str:
        with aws_errors(f"sending the count command to {len(ids)} instances with SSM"):
            reply = self._ssm.send_command(
                InstanceIds=ids,
                DocumentName=DOCUMENT,
                Comment="wsfleet counts",
                TimeoutSeconds=max(30, int(self._timeout)),
                Parameters={"commands": [count_command(port)], "executionTimeout": [str(max(1, int(self._timeout)))]},
            )
        return reply["Command"]["CommandId"]

    def _managed(self, ids: list[str]) -> set[str]:
        """Which of `ids` SSM manages and sees online."""
        found: set[str] = set()
        with aws_errors("asking SSM which instances it manages"):
            pages = self._ssm.get_paginator("describe_instance_information").paginate(
                Filters=[{"Key": "InstanceIds", "Values": ids}]
            )
            for page in pages:
                for info in page.get("InstanceInformationList", ()):
                    if info.get("PingStatus", "Online") == "Online":
                        found.add(info["InstanceId"])
        return found

    def _invocations(self, command_id: str) -> list[dict]:
        out: list[dict] = []
        with aws_errors("reading the SSM command's results"):
            params = {"CommandId": command_id, "Details": True, "MaxResults": 50}
            while True:
                page = self._ssm.list_command_invocations(**params)
                out.extend(page.get("CommandInvocations", ()))
                if not page.get("NextToken"):
                    return out
                params["NextToken"] = page["NextToken"]

    def _stdout_of(self, command_id: str, instance_id: str) -> str | None:
        try:
            with aws_errors("reading one SSM command invocation"):
                reply = self._ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        except AwsCallError as exc:
            log.debug("GetCommandInvocation %s %s: %s", command_id, instance_id, exc)
            return None
        return reply.get("StandardOutputContent")

    # ------------------------------------------------------------------ one batch

    def _row(self, target: CountTarget, command_id: str, invocation: dict, latency_ms: float) -> InstanceCount:
        status = invocation.get("Status", "")
        details = invocation.get("StatusDetails", "") or status
        plugins = invocation.get("CommandPlugins") or [{}]
        output = plugins[0].get("Output") or ""
        stdout, _, stderr = output.partition(_ERROR_MARK)
        code = plugins[0].get("ResponseCode", -1)
        where = f"SSM on {target.instance_id}"
        if status == "Success":
            try:
                return measured(target, parse_count(stdout), latency_ms=latency_ms)
            except CountParseError:
                full = self._stdout_of(command_id, target.instance_id)  # Output is truncated and mixed
                try:
                    if full is None:
                        raise
                    return measured(target, parse_count(full), latency_ms=latency_ms)
                except CountParseError as exc:
                    return failed(target, "parse", f"{where}: {exc}", latency_ms=latency_ms)
        failure = _delivery_failure(status, details, where)
        if failure is not None:
            return failed(target, *failure, latency_ms=latency_ms)
        tail = stderr.strip()[-200:]
        return failed(target, "command", f"{where}: {details or 'failed'} (exit {code})" + (f": {tail}" if tail else ""), latency_ms=latency_ms)

    async def _run_batch(self, port: int, batch: list[CountTarget], answers: asyncio.Queue) -> None:
        started = time.monotonic()
        deadline = started + self._timeout
        by_id = {t.instance_id: t for t in batch}
        ids = list(by_id)
        try:
            command_id = await asyncio.to_thread(self._send, port, ids)
        except AwsCallError as exc:
            if exc.code != "InvalidInstanceId":
                raise
            # one unmanaged instance fails the whole call: find which, resend to the rest
            managed = await asyncio.to_thread(self._managed, ids)
            for i in ids:
                if i not in managed:
                    answers.put_nowait(failed(by_id[i], "not-found", f"{i} is not managed by SSM (no agent online, or no instance profile allowing SSM)"))
            ids = [i for i in ids if i in managed]
            if not ids:
                return
            command_id = await asyncio.to_thread(self._send, port, ids)
        pending = set(ids)
        while pending:
            await asyncio.sleep(min(self._poll, max(0.0, deadline - time.monotonic())))
            for invocation in await asyncio.to_thread(self._invocations, command_id):
                instance_id = invocation.get("InstanceId")
                if instance_id not in pending or invocation.get("Status") in _RUNNING:
                    continue
                pending.discard(instance_id)
                latency_ms = (time.monotonic() - started) * 1000
                answers.put_nowait(await asyncio.to_thread(self._row, by_id[instance_id], command_id, invocation, latency_ms))
            if pending and time.monotonic() >= deadline:
                for i in sorted(pending):
                    answers.put_nowait(failed(by_id[i], "timeout", f"SSM did not finish the count on {i} within {self._timeout:.0f} s"))
                return

    # ------------------------------------------------------------------ the interface

    async def sweep(self, targets: Sequence[CountTarget]) -> AsyncIterator[InstanceCount]:
        async with self._lock:
            answers: asyncio.Queue = asyncio.Queue()
            tasks = [asyncio.create_task(self._run_batch(port, batch, answers)) for port, batch in _batches(targets)]
            remaining = len(targets)
            try:
                while remaining:
                    getter = asyncio.ensure_future(answers.get())
                    done, _ = await asyncio.wait([getter, *[t for t in tasks if not t.done()]], return_when=asyncio.FIRST_COMPLETED)
                    if getter in done:
                        remaining -= 1
                        yield getter.result()
                        continue
                    getter.cancel()
                    for task in done:
                        if task.exception() is not None:
                            raise task.exception()
                    if all(t.done() for t in tasks) and answers.empty():
                        raise AssertionError("an SSM batch ended without answering every instance")
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def run_command(self, target: CountTarget, command: str, *, timeout: float | None = None):
        """Run one fixed command on one instance (SendCommand; ListCommandInvocations until it is
        done; GetCommandInvocation for the whole output, 24,000 characters); failures are values.
        Returns `wsfleet.counts.ssh.CommandOutput`, as SshSource.run_command does. Added for
        `wsfleet doctor`'s instance facts (wsfleet/instance_facts.py); one call per instance."""
        from wsfleet.counts.ssh import CommandOutput

        budget = max(timeout or 0.0, self._timeout)
        deadline = time.monotonic() + budget
        instance_id = target.instance_id
        where = f"SSM on {instance_id}"

        def send() -> str:
            with aws_errors(f"sending wsfleet doctor's facts script to {instance_id} with SSM"):
                reply = self._ssm.send_command(
                    InstanceIds=[instance_id], DocumentName=DOCUMENT, Comment="wsfleet doctor",
                    TimeoutSeconds=max(30, int(budget)),
                    Parameters={"commands": [command], "executionTimeout": [str(max(1, int(budget)))]},
                )
            return reply["Command"]["CommandId"]

        try:
            command_id = await asyncio.to_thread(send)
            while True:
                await asyncio.sleep(min(self._poll, max(0.0, deadline - time.monotonic())))
                found = [i for i in await asyncio.to_thread(self._invocations, command_id) if i.get("InstanceId") == instance_id]
                if found and found[0].get("Status") not in _RUNNING:
                    invocation = found[0]
                    break
                if time.monotonic() >= deadline:
                    return CommandOutput(error="timeout", detail=f"{where}: not finished within {budget:.0f} s")
            full = await asyncio.to_thread(self._stdout_of, command_id, instance_id)
        except AwsError as exc:
            code = getattr(exc, "code", None) or ""
            kind = {"InvalidInstanceId": "not-found", "AccessDeniedException": "auth", "AccessDenied": "auth"}.get(code, "command")
            return CommandOutput(error=kind, detail=f"{where}: {exc}")
        status = invocation.get("Status", "")
        details = invocation.get("StatusDetails", "") or status
        plugin = (invocation.get("CommandPlugins") or [{}])[0]
        failure = _delivery_failure(status, details, where)
        if failure is not None:
            return CommandOutput(error=failure[0], detail=failure[1])
        if status in ("Cancelled", "Cancelling"):
            return CommandOutput(error="command", detail=f"{where}: the command was cancelled")
        stdout, _, stderr = (plugin.get("Output") or "").partition(_ERROR_MARK)
        code = plugin.get("ResponseCode")
        return CommandOutput(stdout=full if full is not None else stdout,
                             exit_status=code if isinstance(code, int) and code >= 0 else (0 if status == "Success" else 1),
                             stderr=stderr.strip()[-300:])

    async def aclose(self) -> None:
        pass


def _delivery_failure(status: str, details: str, where: str) -> tuple[str, str] | None:
    """(error kind, detail) when SSM could not run the command on the instance at all; None otherwise."""
    if details in ("DeliveryTimedOut", "ExecutionTimedOut") or status == "TimedOut":
        return "timeout", f"{where}: {details}"
    if details == "Undeliverable":
        return "not-found", f"{where}: undeliverable (the SSM agent is not running, or the instance is gone)"
    if details == "AccessDenied":
        return "auth", f"{where}: access denied to run the command"
    return None
