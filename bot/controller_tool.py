"""`use_controller`: the one tool the model gets, with several controllers, to switch or to ask all.

It is not in the catalogue (a command never needs it: `on prod-east, ...` and `@prod-east` do the
same), and it changes only where the rest of the turn's reads run, and the conversation's current
controller; it reads and writes nothing on any controller.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bot.tools.base import ToolArgs
from llm.schema import flat_tool

USE_CONTROLLER = "use_controller"
ALL = "all"


class UseControllerArgs(ToolArgs):
    name: str = Field(description="a controller's name, or all to ask every controller at once")


def use_controller_schema() -> dict[str, Any]:
    return flat_tool(
        USE_CONTROLLER,
        "Switch the controller the next tools run on (it stays for this conversation), or name all to "
        "run the next read on every controller.",
        UseControllerArgs.model_json_schema(),
    )
