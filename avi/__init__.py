"""The Avi layer: an async controller client, typed operations and a controller simulator.

Imports neither `bot` nor `llm` (design rule: adapters -> bot -> {llm, avi}).
"""
