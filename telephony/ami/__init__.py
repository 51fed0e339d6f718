"""Asterisk Manager Interface: a sans-IO parser (protocol) and an asyncio connection manager (client)."""
