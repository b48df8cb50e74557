"""Passengers' rights as data: EU261, UK261 and Canada's APPR, chosen per itinerary (see `engine`)."""
