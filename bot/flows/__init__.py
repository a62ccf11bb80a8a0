"""Conversation flows as data: the model, the loader and its checks, and data-driven tests."""
