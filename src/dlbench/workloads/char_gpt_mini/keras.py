"""char_gpt_mini in keras: the same model and training as char_gpt's (its sizes come from SPEC.hp)."""
from dlbench.workloads.char_gpt.keras import *  # noqa: F401,F403
