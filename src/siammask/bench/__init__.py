"""`siammask bench`: every backend x precision timed in its own process beside the reference,
with the model's GFLOP, this machine's GEMM floors and each reduced precision's agreement."""
