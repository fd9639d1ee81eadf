"""The desktop's LLM proxy for the web chat (issue 6): cloud LLMs over plain httpx, no provider SDKs.

- ``sse``: incremental server-sent-events parser;
- ``events``: provider-neutral stream events and messages;
- ``openai`` / ``anthropic``: the two wire formats (Chat Completions, Messages);
- ``transport``: time limits (connect, first token, stall, total) and retries before the first byte;
- ``pricing`` / ``budget``: usage, cost from the versioned price table, the monthly budget per location;
- ``config``: provider, endpoint, model, budget (JSON file) and the API key (OS keyring only);
- ``assistant``: ``LlmAssistant``, the ``app.chat.assistant.Assistant`` that answers through the LLM with the
  strict tool allow-list of ``app.chat.tools``, and ``FallbackAssistant`` (built-in assistant on failure).

Qt-free and without access to the database except ``budget``. The model only ever sees the workshop's
``PublicProfile`` and the current conversation (chat-sync-auth-billing.md §2.6). The submodules are imported
directly (``from app.chat.llm.assistant import LlmAssistant``), so importing this package costs nothing.
"""
