"""char_gpt_mini in torch: the same model and training as char_gpt's (its sizes come from SPEC.hp)."""
from dlbench.workloads.char_gpt.torch import *  # noqa: F401,F403
