"""Tests for the Home Assistant-free engine."""
