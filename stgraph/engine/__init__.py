"""Training and evaluation: metrics, the trainer, stages, checkpoints, distributed runs."""
