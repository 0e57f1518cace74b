"""The LLM layer: Ollama chat with tool calling. Imports neither `bot` nor `avi`."""
