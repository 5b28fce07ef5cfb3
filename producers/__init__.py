"""Agency-side publishing: the SDK and the synthetic LEAD scenario."""
