"""Offline helpers of the authentication core: liveness attack and live sequences."""
