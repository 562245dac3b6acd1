"""Data the tests and benchmarks need, each folder with its provenance and licence; installed as
``opt_offload.data`` so that :func:`opt_offload.shipped` finds it from anywhere."""
