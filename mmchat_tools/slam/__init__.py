"""Offline SLAM tools: vocabulary training, sequences, dataset readers, ATE, the offline runner."""
