"""Micro-sharding: split a group's segments across workers and extract them in parallel."""
