"""Cost models (DESIGN §7): transformer configurations, FLOPs, latency, channel, sparse attention.

Only generators and drivers import this package; solvers never do (DESIGN §2).
"""
