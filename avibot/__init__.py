"""The composition root: configuration, the command line and (later) the server factory.

It is the only package that knows every concrete part; `avi`, `llm`, `bot` and `adapters`
never import it.
"""
