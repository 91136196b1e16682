"""Test-only helpers for the engine-role harness tests (not the ReadSetActivation provider)."""
