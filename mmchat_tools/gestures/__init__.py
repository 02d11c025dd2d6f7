"""Offline gesture data: the real datasets and generated hands and fingertip paths."""
