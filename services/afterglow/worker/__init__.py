"""The stream processors (Faust): thin agents around the pure core."""
