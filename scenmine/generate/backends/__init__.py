"""Chat backends: one small module per provider, all behind :class:`ChatBackend`."""
from .base import BackendError, ChatBackend, ChatResponse, ToolCall, Usage, unreachable
from .store import answer_key, answer_store

__all__ = ["BackendError", "ChatBackend", "ChatResponse", "ToolCall", "Usage",
           "answer_key", "answer_store", "unreachable"]
