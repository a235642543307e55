"""What the synchronous check operators build on: inputs, batches, policies and summaries."""
