"""`make bench`: the hub's speed, measured against raw-client and plain-faust baselines in
the same run on the same machine, so that the ratios hold on a noisy machine."""
