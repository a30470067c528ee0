"""The run layer: catalog (the run folder), declared nodes, runner and execution."""
