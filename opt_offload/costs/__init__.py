"""Cost models (design §7): transformer configurations, FLOPs, latency, channel, sparse attention.

Only generators and drivers import this package; solvers never do (design §2).
"""
