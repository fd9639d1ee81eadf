"""The web chat on the hosted API (issue 6): widget sessions, conversations, the bot's answers, leads.

Modules: ``models`` (tables), ``service`` (conversation operations and the status machine), ``leads``
(lead counting and the plan limit), ``tokens`` (visitor tokens), ``events`` (live events for the widget
and wake-ups for the desktop agent over the key-value store), ``changes`` (the sync stream ``chat``),
``responder`` (who answers: the desktop agent or the server's built-in assistant), ``widget_config``
(widget keys, allowed domains, branding, public profiles), ``static`` (the widget's files). The routes
are ``sync.server.routes.widget`` and ``sync.server.routes.chat``; the architecture is in docs/chat.md.
"""
