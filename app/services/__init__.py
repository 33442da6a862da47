"""Persistence-side logic behind the routers: parsing, validating and storing batches, querying history."""
