"""The MCP example driven by the official Python SDK's Client in the stateless era
(2026-07-28): pinned to the version, or in "auto" mode, which discovers it first.

usage: python3 mcp_modern.py SERVER_BINARY MODE

Prints one JSON object that says what the SDK saw; fails (non-zero status) on the first
check that does not hold.
"""

import json
import sys
import time

import anyio
import mcp_types as types
from mcp import Client, StdioServerParameters


async def main(binary: str, mode: str) -> None:
    seen: dict = {}
    names = iter(["Ada", None])  # the first greet is answered, the second declined

    async def on_elicit(ctx, params):
        seen.setdefault("elicited", []).append({"key": ctx.request_id, "message": params.message})
        name = next(names)
        if name is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"name": name})

    started = time.monotonic()
    async with Client(
        StdioServerParameters(command=binary, args=[]),
        mode=mode,
        elicitation_callback=on_elicit,
        read_timeout_seconds=30,
        client_info=types.Implementation(name="rpc-tests", version="1.0"),
        cache=None,
    ) as client:
        # A server that stays silent on `server/discover` would cost "auto" 10 s.
        seen["connect_seconds"] = time.monotonic() - started
        seen["protocol_version"] = client.protocol_version
        seen["server"] = client.server_info.name if client.server_info else None

        listed = await client.list_tools()
        seen["tools"] = [tool.name for tool in listed.tools]

        added = await client.call_tool("add", {"a": 2, "b": 3})
        assert added.is_error is False, added
        seen["add"] = added.content[0].text
        seen["result_type"] = added.result_type
        divided = await client.call_tool("divide", {"a": 1, "b": 0})
        assert divided.is_error is True, divided
        seen["divide_by_zero"] = divided.content[0].text

        steps = []

        async def on_progress(progress, total, message):
            steps.append([progress, total, message])

        counted = await client.call_tool(
            "countdown", {"count": 2, "interval_ms": 5}, progress_callback=on_progress
        )
        seen["countdown"] = counted.content[0].text
        seen["progress"] = steps

        # The SDK answers `input_required` with the user's answer, and calls again.
        greeted = await client.call_tool("greet", {})
        seen["greet_accepted"] = greeted.content[0].text
        declined = await client.call_tool("greet", {})
        seen["greet_declined"] = declined.content[0].text

        with anyio.move_on_after(0.3) as scope:
            await client.call_tool("countdown", {"count": 1000, "interval_ms": 10})
        seen["cancelled"] = scope.cancelled_caught

        results = {}

        async def one(i: int) -> None:
            answer = await client.call_tool("multiply", {"a": i, "b": 3})
            results[i] = answer.content[0].text

        async with anyio.create_task_group() as group:
            for i in range(50):
                group.start_soon(one, i)
        assert all(results[i] == str(3 * i) for i in range(50)), results
        seen["concurrent"] = len(results)
    print(json.dumps(seen))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
