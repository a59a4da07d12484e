"""Hourly demand forecasting: a small decoder-only transformer over day-long patches."""
