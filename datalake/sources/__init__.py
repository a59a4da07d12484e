"""One module per external source: client, pagination, retries and the raw writer."""
