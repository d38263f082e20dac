"""`dlbench verify`: prove that a workload's versions are the same model, by loading one set of weights into every
framework and comparing what they compute (dlbench.verify.run); canonical weights in dlbench.verify.canonical, one
converter per framework beside it (keras.py, torch.py, jax.py, tensorflow.py), one worker process per framework
(dlbench.verify.worker)."""
