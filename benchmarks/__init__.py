"""On-demand benchmarks: our way and the alternative side by side (``make bench``)."""
