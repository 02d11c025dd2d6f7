"""Offline SLAM tools: vocabulary training, rendered sequences, dataset readers, ATE, the
offline runner."""
