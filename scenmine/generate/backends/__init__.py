"""Chat backends: one small module per provider, all behind :class:`ChatBackend`."""
from .base import BackendError, ChatBackend, ChatResponse, ToolCall, Usage, unreachable
from .store import AnswerStore, answer_key

__all__ = ["AnswerStore", "BackendError", "ChatBackend", "ChatResponse", "ToolCall", "Usage",
           "answer_key", "unreachable"]
