"""char_gpt_mini in tensorflow: the same model and training as char_gpt's (its sizes come from SPEC.hp)."""
from dlbench.workloads.char_gpt.tensorflow import *  # noqa: F401,F403
