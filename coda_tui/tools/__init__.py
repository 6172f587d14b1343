"""Tools the model may call during a turn: built-ins over the project sandbox, MCP servers'
tools and plugins' tools, behind one registry (see base.py for the contract)."""
