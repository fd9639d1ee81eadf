"""The "Chat" tab: the web widget's conversations with staff takeover, canned replies and links."""
