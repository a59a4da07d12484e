"""Real time for the energy company: transactions and the USD/COP price through a stream.

``events`` holds the event records and their validation; ``ports`` the three ports (stream,
portfolio store, notifier) that each have a local and an AWS adapter, picked in
:mod:`datalake.runtime` like every other port.
"""
