"""The agent core (issue 3). Imports `llm` and `avi`, never an adapter."""
