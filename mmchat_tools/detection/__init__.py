"""Offline detection tools: engine building, simulator-rendered data, evaluation metrics."""
