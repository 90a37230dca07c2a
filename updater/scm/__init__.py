"""Source-control backends: where the values files are read from and where the one commit goes."""
