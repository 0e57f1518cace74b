"""Chat platform adapters, one folder each. They import `bot`, never `avi` or `llm`."""
