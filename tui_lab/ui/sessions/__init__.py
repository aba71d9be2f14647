"""Launched jobs as the UI holds them, each fed from its worker thread through the bridge."""
