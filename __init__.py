"""labelmill: images and reports in, weakly labeled WebDataset shards and a label audit out."""

__version__ = "0.1.0"
