"""Tests for Home Guardian."""
