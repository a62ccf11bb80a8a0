"""Thin adapters that connect a chat surface to the front desk."""
