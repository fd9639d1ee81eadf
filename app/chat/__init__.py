"""The web chat's pure core (issue 6): the workshop's public profile, slots, conversations, the tool
allow-list with its executor, the visitor-facing texts, intents and the built-in assistant.

Qt-free and network-free; shared by the desktop agent and the hosted API. The cloud LLM assistant lives
in ``app.chat.llm`` and is deliberately not imported here (it needs httpx and the keyring).
"""

from __future__ import annotations

from app.chat.assistant import Assistant, AssistantReply, BuiltinAssistant, quick_replies
from app.chat.conversation import (
    LANGUAGES,
    Contact,
    ConversationView,
    Turn,
    normalise_language,
    valid_email,
    valid_phone,
)
from app.chat.intents import Intent, ServiceIndex, ServiceMatch, detect_intents, looks_like_injection
from app.chat.profile import FreeInterval, PublicProfile, PublicService, build_profile
from app.chat.slots import SlotOffer, offer_slots, slot_problem
from app.chat.texts import format_duration, format_money, format_price_from, format_when
from app.chat.tools import (
    MAX_TOOL_CALLS_PER_TURN,
    TOOL_DEFINITIONS,
    TOOL_NAMES,
    BookingRequest,
    BookingSink,
    ToolDefinition,
    ToolExecutor,
    ToolResult,
    tool_definitions,
)

__all__ = [
    "LANGUAGES",
    "MAX_TOOL_CALLS_PER_TURN",
    "TOOL_DEFINITIONS",
    "TOOL_NAMES",
    "Assistant",
    "AssistantReply",
    "BookingRequest",
    "BookingSink",
    "BuiltinAssistant",
    "Contact",
    "ConversationView",
    "FreeInterval",
    "Intent",
    "PublicProfile",
    "PublicService",
    "ServiceIndex",
    "ServiceMatch",
    "SlotOffer",
    "ToolDefinition",
    "ToolExecutor",
    "ToolResult",
    "Turn",
    "build_profile",
    "detect_intents",
    "format_duration",
    "format_money",
    "format_price_from",
    "format_when",
    "looks_like_injection",
    "normalise_language",
    "offer_slots",
    "quick_replies",
    "slot_problem",
    "tool_definitions",
    "valid_email",
    "valid_phone",
]
