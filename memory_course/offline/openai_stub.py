"""A small OpenAI-compatible chat server on 127.0.0.1, answered by the offline model.

It lets the `ChatOpenAI` code path run for real (HTTP, JSON, server-sent events) with
no key and no network: tests use it to check the OpenAI branch of `get_chat_model`, and
the grader uses it as the fake model a student's application talks to.

    with OpenAICompatibleServer() as server:
        llm = ChatOpenAI(base_url=server.base_url, api_key="not-needed", model="stub")
        llm.invoke("Hi, I'm Alex")
        server.requests[-1]["messages"]   # exactly what the client sent

Only `POST /v1/chat/completions` (plain and streamed) and `GET /v1/models` exist.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from memory_course.offline.offline_model import OfflineChatModel

__all__ = ["OpenAICompatibleServer", "openai_messages_to_langchain"]

# Larger request bodies are refused (413) before they are read: a client cannot make
# the server buffer an arbitrary amount of memory by announcing a huge Content-Length.
MAX_BODY_BYTES = 4 * 1024 * 1024

_ROLES = {"system": SystemMessage, "developer": SystemMessage, "user": HumanMessage}


def openai_messages_to_langchain(messages: list[dict[str, Any]]) -> list[BaseMessage]:
    """Convert OpenAI chat `messages` (role/content dicts) to LangChain messages."""
    converted: list[BaseMessage] = []
    for message in messages:
        content = message.get("content") or ""
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        converted.append(_ROLES.get(message.get("role", ""), AIMessage)(content=content))
    return converted


class OpenAICompatibleServer:
    """A threaded HTTP server speaking enough of the OpenAI chat API for the course.

    `requests` keeps every request body received (thread-safe copy on read).
    `fail_next(n)` makes the next `n` completions answer HTTP 500, for error tests.
    """

    def __init__(self, model: BaseChatModel | None = None, host: str = "127.0.0.1", port: int = 0):
        self.model = model or OfflineChatModel()
        self._requests: list[dict[str, Any]] = []
        self._failures = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        assert isinstance(host, str)  # an IP server's; bytes are for other address families
        return f"http://{host}:{port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    def fail_next(self, count: int = 1) -> None:
        with self._lock:
            self._failures = count

    def start(self) -> OpenAICompatibleServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAICompatibleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _take_failure(self) -> bool:
        with self._lock:
            if self._failures > 0:
                self._failures -= 1
                return True
            return False

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(body)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send_json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send_json(
                        200, {"object": "list", "data": [{"id": "stub", "object": "model"}]}
                    )
                else:
                    self._send_json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_BODY_BYTES:
                    self.close_connection = True
                    self._send_json(413, {"error": {"message": "request body too large"}})
                    return
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                    self._send_json(400, {"error": {"message": "invalid JSON"}})
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send_json(404, {"error": {"message": "not found"}})
                    return
                server._record(body)
                if server._take_failure():
                    self._send_json(
                        500, {"error": {"message": "injected failure", "type": "server_error"}}
                    )
                    return
                messages = openai_messages_to_langchain(body.get("messages", []))
                reply = server.model.invoke(messages, stop=body.get("stop"))
                usage: Mapping[str, Any] = reply.usage_metadata or {}
                usage_json = {
                    "prompt_tokens": usage.get("input_tokens", 0),
                    "completion_tokens": usage.get("output_tokens", 0),
                    "total_tokens": usage.get("total_tokens", 0),
                }
                model_name = body.get("model", "stub")
                created = int(time.time())
                if body.get("stream"):
                    self._stream(reply.text, model_name, created, usage_json, body)
                    return
                self._send_json(
                    200,
                    {
                        "id": "chatcmpl-stub",
                        "object": "chat.completion",
                        "created": created,
                        "model": model_name,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": usage_json,
                    },
                )

            def _stream(
                self, text: str, model_name: str, created: int, usage: dict, body: dict
            ) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                base = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model_name,
                }
                words = text.split(" ")
                pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
                events = [
                    {
                        **base,
                        "choices": [
                            {
                                "index": 0,
                                "delta": {"role": "assistant", "content": ""},
                                "finish_reason": None,
                            }
                        ],
                    }
                ]
                events += [
                    {
                        **base,
                        "choices": [
                            {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                        ],
                    }
                    for piece in pieces
                ]
                events.append(
                    {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                )
                if (body.get("stream_options") or {}).get("include_usage"):
                    events.append({**base, "choices": [], "usage": usage})
                for event in events:
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler
