"""Infrastructure any layer may use: errors, exit codes, retry policy and budget, masking, atomic writes."""
