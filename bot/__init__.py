"""BoneBot: bone-health answers, DEXA scan reminders and care-team updates for people on aromatase inhibitors."""

import os

# One BLAS thread per process, set before numpy loads: a bot process handles one message at a time per core,
# and OpenBLAS's default thread per core doubled the CPU each question cost (bench/README.md). An operator's
# own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
