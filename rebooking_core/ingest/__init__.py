"""Ops feeds read into `FlightUpdate`s and schedule records: IATA MVT, ASM and SSM text, flight-status documents (pure)."""
