"""Shared limits on every scenario knob and command-line count (light: no imports, so the
command line can check a count before loading anything else)."""

# Shared limits. Ten years bounds every horizon, delay and ramp; a year every wait in hours.
MAX_DAYS = 3650.0
MAX_HOURS = 8760.0
MAX_MONTHS = 120.0
MAX_REPLICATIONS = 10_000
MAX_SEED = 2**63 - 1  # results tables hold the seed as a 64-bit integer
# Channel and reason codes are stored as int8 in a replication's record, rep ids as int16.
MAX_CHANNELS = 100
MAX_REASONS = 100
MAX_REPS = 1_000
MAX_ATTEMPTS = 50
MAX_CYCLES = 20
MAX_NAME = 100
MAX_DEAL = 1e9  # a billion-dollar deal: every sum of money stays far from float overflow
MAX_COST = 1e8
MAX_MULTIPLIER = 1e3
MAX_WEIGHT = 1e6
