"""The JSON API's request and response bodies: validated on the way in, documented in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.types import ControllerView, Outcome, Part, Risk, TurnResult

CONVERSATION_ID = r"^[A-Za-z0-9._-]{1,64}$"
MAX_CONTROLLER = 64  # characters of a controller name a request may carry (Inbound's own limit)


class Strict(BaseModel):
    """Request bodies: unknown fields are a 400 naming them, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ChatRequest(Strict):
    message: str = Field(min_length=1, max_length=8000, description="the question or command")
    conversation_id: str | None = Field(
        None, pattern=CONVERSATION_ID, description="continue this conversation; a new one when omitted"
    )
    model: str | None = Field(
        None, min_length=1, max_length=200, description="Ollama model for this conversation (LLM mode only)"
    )
    controller: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_CONTROLLER,
        description="ask this controller (by name), and keep it as the conversation's current one",
    )


class ActionRequest(Strict):
    conversation_id: str | None = Field(
        None, pattern=CONVERSATION_ID, description="the conversation the action was proposed in"
    )


class ValidateModelRequest(Strict):
    model: str = Field(min_length=1, max_length=200)


class ToolCallOut(BaseModel):
    name: str
    arguments: dict[str, Any]
    ok: bool


class PendingActionOut(BaseModel):
    id: str
    summary: str
    diff: list[str]
    risk: Risk
    expires_at: datetime


class ChatResponse(BaseModel):
    text: str
    parts: list[Part]
    tool_calls: list[ToolCallOut]
    mode: Literal["llm", "command"]
    conversation_id: str | None
    pending_action: PendingActionOut | None
    outcome: Outcome = Field(
        description="how the turn ended: answered, pending, done, failed, unknown, cancelled, refused, "
        "expired, already_settled (for a confirm: what really happened on the controller)"
    )

    @classmethod
    def of(cls, result: TurnResult, conversation_id: str | None) -> ChatResponse:
        reply = result.reply
        pending = reply.pending_action
        return cls(
            text=reply.text,
            parts=reply.parts,
            tool_calls=[ToolCallOut(name=c.name, arguments=c.arguments, ok=c.ok) for c in reply.tool_calls],
            mode=reply.mode,
            conversation_id=conversation_id,
            pending_action=None if pending is None else PendingActionOut(**pending.model_dump()),
            outcome=result.outcome,
        )


class HistoryMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str = ""


class HistoryResponse(BaseModel):
    conversation_id: str
    messages: list[HistoryMessage]


class ClearedResponse(BaseModel):
    conversation_id: str
    cleared: bool = True


class ModelOut(BaseModel):
    name: str
    size: int | None = None
    family: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None


class ModelsResponse(BaseModel):
    mode: Literal["llm", "command"]
    default: str | None = Field(description="the configured model (conversations may pick another)")
    models: list[ModelOut]


class ModelCheckResponse(BaseModel):
    name: str
    ok: bool
    exists: bool
    supports_tools: bool | None = None
    context_length: int | None = None
    message: str
    hint: str = ""


class SessionResponse(BaseModel):
    user: str
    via: Literal["session", "token", "proxy"]
    csrf_token: str = Field(description="send as X-CSRF-Token on POST/PUT/PATCH/DELETE with the cookie")
    mode: Literal["llm", "command"]


class ControllersQuery(BaseModel):
    conversation_id: str | None = Field(
        None, pattern=CONVERSATION_ID, description="a JSON API conversation; the page's when omitted"
    )


class ControllersResponse(BaseModel):
    controllers: list[ControllerView] = Field(description="every controller, the default first")
    current: str = Field(description="the controller the conversation's next question goes to")
    several: bool = Field(description="false: one controller, never named in replies")


class ErrorResponse(BaseModel):
    error: str
    field: str | None = Field(None, description="the request field at fault, when one is")
    hint: str = ""
