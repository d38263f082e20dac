"""char_gpt_mini in jax: the same model and training as char_gpt's (its sizes come from SPEC.hp)."""
from dlbench.workloads.char_gpt.jax import *  # noqa: F401,F403
