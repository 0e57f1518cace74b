"""The JSON API: chat, confirm/cancel, history, models, session, OpenAPI.

Every body is a pydantic model (adapters.web.schemas); every error is `{"error", "field"?}`.
"""

from __future__ import annotations

import secrets

from aiohttp import web
from pydantic import BaseModel, Field

from adapters.web.http import ApiError, json_api, ok, parse_body, parse_query
from adapters.web.openapi import OPENAPI_ROUTES, RouteDoc, build_document, document
from adapters.web.schemas import (
    CONVERSATION_ID,
    ActionRequest,
    ChatRequest,
    ChatResponse,
    ClearedResponse,
    ControllersQuery,
    ControllersResponse,
    HistoryMessage,
    HistoryResponse,
    ModelCheckResponse,
    ModelOut,
    ModelsResponse,
    SessionResponse,
    ValidateModelRequest,
)
from adapters.web.security import conversation_key, identity, inbound
from bot.turns import Turns

ACTION_ID = r"^[A-Za-z0-9_-]{6,64}$"
TURNS_KEY = web.AppKey("avibot_turns", Turns)


class HistoryQuery(BaseModel):
    conversation_id: str = Field(pattern=CONVERSATION_ID)


class ActionPath(BaseModel):
    id: str = Field(pattern=ACTION_ID)


def _turns(request: web.Request) -> Turns:
    return request.app[TURNS_KEY]


def _unavailable(exc: Exception) -> ApiError:
    """An LLM error (it has `.message` and `.hint`) as a 503; anything else is a bug."""
    message = getattr(exc, "message", None)
    if not isinstance(message, str):
        raise exc
    return ApiError(503, message, hint=str(getattr(exc, "hint", "") or ""))


@json_api
async def chat(request: web.Request) -> web.Response:
    body = await parse_body(request, ChatRequest)
    turns, ident = _turns(request), identity(request)
    cid = body.conversation_id or secrets.token_hex(8)
    key = conversation_key(ident, cid)
    if body.model and turns.mode == "llm" and await turns.model_for(key) != body.model:
        try:
            check = await turns.validate_model(body.model)
        except Exception as exc:
            raise _unavailable(exc) from None
        if not check.ok:
            raise ApiError(400, f"model: {check.message}", field="model", hint=check.hint)
        await turns.use_model(key, body.model)
    result = await turns.run(inbound(ident, body.message, cid, controller=body.controller or ""))
    return ok(ChatResponse.of(result, cid))


@json_api
async def controllers(request: web.Request) -> web.Response:
    """The controllers and the one the conversation (the page's, unless one is named) is on."""
    query = parse_query(request, ControllersQuery)
    turns = _turns(request)
    views = turns.controllers()
    current = await turns.current_controller(conversation_key(identity(request), query.conversation_id))
    return ok(ControllersResponse(controllers=views, current=current, several=len(views) > 1))


async def _action(request: web.Request, intent: str) -> web.Response:
    try:
        action_id = ActionPath(id=request.match_info["id"]).id
    except ValueError:
        raise ApiError(400, "id: not a valid action id", field="id") from None
    body = await parse_body(request, ActionRequest, optional=True)
    message = inbound(identity(request), f"{intent} {action_id}", body.conversation_id)
    result = await _turns(request).settle(intent, action_id, message)
    return ok(ChatResponse.of(result, body.conversation_id))


@json_api
async def confirm(request: web.Request) -> web.Response:
    return await _action(request, "confirm")


@json_api
async def cancel(request: web.Request) -> web.Response:
    return await _action(request, "cancel")


@json_api
async def history(request: web.Request) -> web.Response:
    query = parse_query(request, HistoryQuery)
    key = conversation_key(identity(request), query.conversation_id)
    messages = await _turns(request).history(key)
    return ok(
        HistoryResponse(
            conversation_id=query.conversation_id,
            messages=[
                HistoryMessage.model_validate(m) for m in messages if isinstance(m, dict) and "role" in m
            ],
        )
    )


@json_api
async def clear_history(request: web.Request) -> web.Response:
    query = parse_query(request, HistoryQuery)
    await _turns(request).forget(conversation_key(identity(request), query.conversation_id))
    return ok(ClearedResponse(conversation_id=query.conversation_id))


@json_api
async def models(request: web.Request) -> web.Response:
    turns = _turns(request)
    try:
        found = await turns.list_models()
    except Exception as exc:
        raise _unavailable(exc) from None
    return ok(
        ModelsResponse(
            mode="llm" if turns.mode == "llm" else "command",
            default=await turns.model_for(""),
            models=[ModelOut.model_validate(m, from_attributes=True) for m in found],
        )
    )


@json_api
async def validate_model(request: web.Request) -> web.Response:
    body = await parse_body(request, ValidateModelRequest)
    try:
        check = await _turns(request).validate_model(body.model)
    except Exception as exc:
        raise _unavailable(exc) from None
    return ok(
        ModelCheckResponse(
            name=check.name,
            ok=check.ok,
            exists=check.exists,
            supports_tools=check.supports_tools,
            context_length=check.context_length,
            message=check.message,
            hint=check.hint,
        )
    )


@json_api
async def session(request: web.Request) -> web.Response:
    ident = identity(request)
    mode = "llm" if _turns(request).mode == "llm" else "command"
    return ok(SessionResponse(user=ident.user.id, via=ident.via, csrf_token=ident.csrf_token, mode=mode))


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(build_document(request.app.get(OPENAPI_ROUTES, [])))


_CID = {"conversation_id": "the conversation (as returned by POST /api/chat)"}

DOCS = (
    RouteDoc(
        "POST", "/api/chat", "Ask the assistant", ChatResponse, ChatRequest, errors=(400, 401, 403, 429, 503)
    ),
    RouteDoc("POST", "/api/actions/{id}/confirm", "Confirm a pending write", ChatResponse, ActionRequest),
    RouteDoc("POST", "/api/actions/{id}/cancel", "Cancel a pending write", ChatResponse, ActionRequest),
    RouteDoc(
        "GET",
        "/api/chat/history",
        "A conversation's messages",
        HistoryResponse,
        query=_CID,
        required_query=("conversation_id",),
    ),
    RouteDoc(
        "DELETE",
        "/api/chat/history",
        "Forget a conversation",
        ClearedResponse,
        query=_CID,
        required_query=("conversation_id",),
    ),
    RouteDoc("GET", "/api/models", "Models Ollama has pulled", ModelsResponse, errors=(401, 429, 503)),
    RouteDoc(
        "POST",
        "/api/models/validate",
        "Can this model serve avibot?",
        ModelCheckResponse,
        ValidateModelRequest,
        errors=(400, 401, 403, 429, 503),
    ),
    RouteDoc(
        "GET",
        "/api/session",
        "Who am I, and the CSRF token for cookie sessions",
        SessionResponse,
        errors=(401, 429),
    ),
    RouteDoc(
        "GET",
        "/api/controllers",
        "The controllers, and the one this conversation's next question goes to",
        ControllersResponse,
        None,
        {"conversation_id": "a JSON API conversation; the page's when omitted"},
        errors=(400, 401, 429),
    ),
    RouteDoc("GET", "/api/openapi.json", "This document", raw_response={"type": "object"}, errors=(401,)),
)


def setup_api(app: web.Application) -> None:
    app.router.add_post("/api/chat", chat)
    app.router.add_post("/api/actions/{id}/confirm", confirm)
    app.router.add_post("/api/actions/{id}/cancel", cancel)
    app.router.add_get("/api/chat/history", history)
    app.router.add_delete("/api/chat/history", clear_history)
    app.router.add_get("/api/models", models)
    app.router.add_post("/api/models/validate", validate_model)
    app.router.add_get("/api/session", session)
    app.router.add_get("/api/controllers", controllers)
    app.router.add_get("/api/openapi.json", openapi)
    document(app, *DOCS)
