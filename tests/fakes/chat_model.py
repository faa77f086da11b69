"""``ScriptedChatModel``: an in-process chat model for agent tests, answering from a script.

A subclass of LangChain's ``GenericFakeChatModel`` (so it runs through the real ``BaseChatModel``
machinery: callbacks, ``invoke``/``ainvoke``, message coercion) whose ``bind_tools`` returns the
model itself, as the agent's code expects of a real model::

    model = ScriptedChatModel(
        replies=[
            AIMessage(content="", tool_calls=[{"name": "update_lead", "args": {"name": "Ana"}, "id": "c1"}]),
            "Prazer, Ana! Posso te mandar a tabela de preços?",  # a str is a text reply
        ]
    )

One scripted item is consumed per call, in order:

* an ``AIMessage`` or a ``str``: the reply (a copy: the script is never mutated). Tool calls
  with ``"id": None`` get ``call_1``, ``call_2``...; ``usage_metadata`` is set when the message has
  none (words of the prompt in, words of the reply and tool arguments out);
* a callable ``fn(messages) -> AIMessage | str``: a reply computed from what the agent sent;
* an exception (instance or class): raised by that call (``raise_next(exc, n)`` queues some first);
* a stall (``stall_next(seconds, reply=None)``): that call sleeps, then answers `reply` (or a
  placeholder): the way to exceed ``invoke_with_tools``'s ``timeout_seconds``. The stalled call
  takes its own script item when it starts, so a retry gets the next one.

``add(*items)`` appends to the script. When the script is empty, ``default_reply`` answers (a
``str`` or an ``AIMessage``); with no default an ``AssertionError`` says the agent called the model
once more than the test expected.

What the agent sent is recorded: ``calls`` (one list of messages per call), ``last_messages``,
``system_prompt(i)`` (the text of call i's system message), ``bound_tools`` / ``tool_names``
(from the last ``bind_tools``) and ``bind_kwargs`` (e.g. ``tool_choice``). ``pending`` is the
number of script items left. Thread-safe (the agent calls it from worker threads).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

LATE_REPLY = "(resposta atrasada)"


@dataclass(frozen=True)
class Stall:
    """Sleep `seconds`, then answer `reply` (a placeholder when None)."""

    seconds: float
    reply: AIMessage | str | None = None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content if p)
    return ""


def _words(text: str) -> int:
    return len(text.split())


class ScriptedChatModel(GenericFakeChatModel):
    replies: list[Any] = Field(default_factory=list)
    default_reply: Any = None  # AIMessage | str | None (Any: pydantic would coerce a str into an AIMessage)
    messages: Iterator[AIMessage | str] = Field(default_factory=lambda: iter(()))  # unused (the parent's script)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[Any] = Field(default_factory=list)
    bind_kwargs: dict[str, Any] = Field(default_factory=dict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _call_ids: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "scripted-chat-model"

    # -- script -----------------------------------------------------------------------------------
    def add(self, *items: Any) -> ScriptedChatModel:
        with self._lock:
            self.replies.extend(items)
        return self

    def raise_next(self, exc: BaseException | type[BaseException], n: int = 1) -> ScriptedChatModel:
        """The next n calls raise `exc` (before the replies already scripted)."""
        with self._lock:
            self.replies[0:0] = [exc] * n
        return self

    def stall_next(self, seconds: float, reply: AIMessage | str | None = None, n: int = 1) -> ScriptedChatModel:
        """The next n calls sleep `seconds` before answering (before the replies already scripted)."""
        with self._lock:
            self.replies[0:0] = [Stall(seconds, reply)] * n
        return self

    @property
    def pending(self) -> int:
        return len(self.replies)

    # -- what the agent sent ------------------------------------------------------------------------
    @property
    def last_messages(self) -> list[BaseMessage]:
        assert self.calls, "the model was never called"
        return self.calls[-1]

    def system_prompt(self, call: int = -1) -> str:
        """The text of the system message(s) of call `call` ("" when none)."""
        return "\n".join(_text(m.content) for m in self.calls[call] if isinstance(m, SystemMessage))

    @property
    def tool_names(self) -> list[str]:
        return [convert_to_openai_tool(t)["function"]["name"] for t in self.bound_tools]

    # -- the model ----------------------------------------------------------------------------------
    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        self.bound_tools = list(tools)
        self.bind_kwargs = dict(kwargs)
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            self.calls.append(list(messages))
            item = self.replies.pop(0) if self.replies else None
        if item is None:
            if self.default_reply is None:
                raise AssertionError(
                    f"ScriptedChatModel: call {len(self.calls)} but the script is empty (no default_reply)"
                )
            item = self.default_reply
        if isinstance(item, Stall):
            time.sleep(item.seconds)
            item = item.reply if item.reply is not None else LATE_REPLY
        if isinstance(item, BaseException) or (isinstance(item, type) and issubclass(item, BaseException)):
            raise item
        if callable(item) and not isinstance(item, AIMessage):
            item = item(list(messages))
        message = self._finish(AIMessage(content=item) if isinstance(item, str) else item, messages)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _finish(self, message: AIMessage, prompt: list[BaseMessage]) -> AIMessage:
        if not isinstance(message, AIMessage):
            raise TypeError(f"a scripted reply is an AIMessage or a str, not {type(message).__name__}")
        calls = []
        for call in message.tool_calls:
            call = dict(call)
            if not call.get("id"):
                with self._lock:
                    self._call_ids += 1
                    call["id"] = f"call_{self._call_ids}"
            calls.append(call)
        update: dict[str, Any] = {"tool_calls": calls}
        if message.usage_metadata is None:
            tokens_in = sum(_words(_text(m.content)) for m in prompt)
            tokens_out = _words(_text(message.content)) + sum(_words(str(c.get("args") or {})) for c in calls)
            update["usage_metadata"] = {
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            }
        return message.model_copy(update=update, deep=True)
