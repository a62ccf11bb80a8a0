"""Loket: a chat front desk for the public services of a regency (Kabupaten Mimika first)."""
