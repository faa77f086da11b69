"""The sales agent: rules -> learned answers -> RAG + LLM with tools, on LangGraph."""
