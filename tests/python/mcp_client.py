"""The MCP example driven by the official Python SDK, in either era of the protocol:
`legacy` (its ClientSession: the initialize handshake, elicitation/create as a request to the
client), or its Client in the stateless era, pinned (`2026-07-28`) or discovered (`auto`:
server/discover first), where the user is asked through `input_required` and a retry.

usage: python3 mcp_client.py SERVER_BINARY legacy|2026-07-28|auto

Prints one JSON object that says what the SDK saw; fails (non-zero status) on the first
check that does not hold.
"""

import contextlib
import json
import sys
import time

import anyio
import mcp_types as types
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError


@contextlib.asynccontextmanager
async def connect(binary: str, mode: str, on_elicit, seen: dict):
    server = StdioServerParameters(command=binary, args=[])
    info = types.Implementation(name="rpc-tests", version="1.0")
    started = time.monotonic()
    if mode == "legacy":
        async with stdio_client(server) as (read, write):
            async with ClientSession(
                read, write, read_timeout_seconds=30, elicitation_callback=on_elicit, client_info=info
            ) as session:
                init = await session.initialize()
                seen["protocol_version"] = session.protocol_version
                seen["server"] = init.server_info.name
                seen["instructions"] = init.instructions
                await session.send_ping()
                yield session
        return
    async with Client(
        server, mode=mode, elicitation_callback=on_elicit, read_timeout_seconds=30, client_info=info, cache=None
    ) as client:
        # A server that stays silent on `server/discover` would cost "auto" 10 s.
        seen["connect_seconds"] = time.monotonic() - started
        seen["protocol_version"] = client.protocol_version
        seen["server"] = client.server_info.name if client.server_info else None
        yield client


async def main(binary: str, mode: str) -> None:
    seen: dict = {}
    names = iter(["Ada", None])  # the first greet is answered, the second declined

    async def on_elicit(ctx, params):
        seen.setdefault("elicited", []).append(
            {"key": ctx.request_id if mode != "legacy" else None, "message": params.message,
             "schema": getattr(params, "requested_schema", None)}
        )
        name = next(names)
        if name is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"name": name})

    async with connect(binary, mode, on_elicit, seen) as client:
        listed = await client.list_tools()
        seen["tools"] = [tool.name for tool in listed.tools]
        seen["add_schema"] = next(t for t in listed.tools if t.name == "add").input_schema

        added = await client.call_tool("add", {"a": 2, "b": 3})
        assert added.is_error is False, added
        seen["add"] = added.content[0].text
        seen["result_type"] = getattr(added, "result_type", None)
        divided = await client.call_tool("divide", {"a": 1, "b": 0})
        assert divided.is_error is True, divided
        seen["divide_by_zero"] = divided.content[0].text
        overflowed = await client.call_tool("multiply", {"a": 2**62, "b": 4})
        assert overflowed.is_error is True, overflowed
        seen["overflow"] = overflowed.content[0].text
        wrong = await client.call_tool("add", {"a": "two", "b": 3})
        assert wrong.is_error is True, wrong
        try:
            await client.call_tool("no_such_tool", {})
            raise AssertionError("an unknown tool is a protocol error")
        except MCPError as err:
            seen["unknown_tool_code"] = err.error.code

        steps = []

        async def on_progress(progress, total, message):
            steps.append([progress, total, message])

        counted = await client.call_tool(
            "countdown", {"count": 3, "interval_ms": 5}, progress_callback=on_progress
        )
        seen["countdown"] = counted.content[0].text
        seen["progress"] = steps

        greeted = await client.call_tool("greet", {})
        seen["greet_accepted"] = greeted.content[0].text
        declined = await client.call_tool("greet", {})
        seen["greet_declined"] = declined.content[0].text

        # Cancelled mid-countdown: the SDK sends notifications/cancelled; the session goes on.
        with anyio.move_on_after(0.3) as scope:
            await client.call_tool("countdown", {"count": 1000, "interval_ms": 10})
        seen["cancelled"] = scope.cancelled_caught
        after = await client.call_tool("add", {"a": 40, "b": 2})
        seen["after_cancel"] = after.content[0].text

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
