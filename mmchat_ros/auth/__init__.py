"""Operator authentication without ROS: faces, liveness, voiceprint, spoken challenge, fusion.

faces        face detection, 68 landmarks and 128-d embeddings (dlib models of face_recognition)
matching     enrolled operators' templates, single-frame matches and the decision over frames
liveness     blink and head-turn challenges from the 68 landmarks (a flat photo never passes)
voiceprint   audio checks and resemblyzer speaker embeddings, enrolled from several utterances
challenge    one-time spoken challenges (nonce, expiry, single use) checked against a transcript
policy       the fusion policy, e.g. `face AND liveness AND (voiceprint AND challenge)`
session      the operator session: expiry, renewal, ended by another face or voice
store        the enrolment store: SQLite in WAL mode, mode 0600, embeddings only
enroll, operators   the `mmchat enroll` and `mmchat operators` commands
config       the shipped parameters (config/robot/auth.yaml) for the commands and the benchmark
Synthetic liveness sequences for tests and the benchmark: mmchat_tools.auth.liveness_sequences.
"""
