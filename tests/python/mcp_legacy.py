"""The MCP example driven by the official Python SDK's ClientSession (the initialize era).

usage: python3 mcp_legacy.py SERVER_BINARY

Prints one JSON object that says what the SDK saw; fails (non-zero status) on the first
check that does not hold.
"""

import json
import sys

import anyio
import mcp_types as types
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError


async def main(binary: str) -> None:
    seen: dict = {}
    names = iter(["Ada", None])  # the first greet is answered, the second declined

    async def on_elicit(ctx, params):
        seen.setdefault("elicited", []).append(
            {"message": params.message, "schema": params.requested_schema}
        )
        name = next(names)
        if name is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"name": name})

    server = StdioServerParameters(command=binary, args=[])
    async with stdio_client(server) as (read, write):
        async with ClientSession(
            read,
            write,
            read_timeout_seconds=30,
            elicitation_callback=on_elicit,
            client_info=types.Implementation(name="rpc-tests", version="1.0"),
        ) as session:
            init = await session.initialize()
            seen["protocol_version"] = session.protocol_version
            seen["server"] = init.server_info.name
            seen["instructions"] = init.instructions
            await session.send_ping()

            listed = await session.list_tools()
            seen["tools"] = [tool.name for tool in listed.tools]
            seen["add_schema"] = next(t for t in listed.tools if t.name == "add").input_schema

            added = await session.call_tool("add", {"a": 2, "b": 3})
            assert added.is_error is False, added
            seen["add"] = added.content[0].text
            divided = await session.call_tool("divide", {"a": 1, "b": 0})
            assert divided.is_error is True, divided
            seen["divide_by_zero"] = divided.content[0].text
            overflowed = await session.call_tool("multiply", {"a": 2**62, "b": 4})
            assert overflowed.is_error is True, overflowed
            seen["overflow"] = overflowed.content[0].text
            wrong = await session.call_tool("add", {"a": "two", "b": 3})
            assert wrong.is_error is True, wrong
            try:
                await session.call_tool("no_such_tool", {})
                raise AssertionError("an unknown tool is a protocol error")
            except MCPError as err:
                seen["unknown_tool_code"] = err.error.code

            steps = []

            async def on_progress(progress, total, message):
                steps.append([progress, total, message])

            counted = await session.call_tool(
                "countdown", {"count": 3, "interval_ms": 5}, progress_callback=on_progress
            )
            seen["countdown"] = counted.content[0].text
            seen["progress"] = steps

            greeted = await session.call_tool("greet", {})
            seen["greet_accepted"] = greeted.content[0].text
            declined = await session.call_tool("greet", {})
            seen["greet_declined"] = declined.content[0].text

            # Cancelled mid-countdown: the SDK sends notifications/cancelled; the session goes on.
            with anyio.move_on_after(0.3) as scope:
                await session.call_tool("countdown", {"count": 1000, "interval_ms": 10})
            seen["cancelled"] = scope.cancelled_caught
            after = await session.call_tool("add", {"a": 40, "b": 2})
            seen["after_cancel"] = after.content[0].text

            results = {}

            async def one(i: int) -> None:
                answer = await session.call_tool("multiply", {"a": i, "b": 3})
                results[i] = answer.content[0].text

            async with anyio.create_task_group() as group:
                for i in range(50):
                    group.start_soon(one, i)
            assert all(results[i] == str(3 * i) for i in range(50)), results
            seen["concurrent"] = len(results)
    print(json.dumps(seen))


if __name__ == "__main__":
    anyio.run(main, sys.argv[1])
