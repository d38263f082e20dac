"""`dlbench verify`: prove that a workload's versions are the same model, by loading one set of weights into every
framework and comparing what they compute (dlbench.verify.run); canonical weights in dlbench.verify.canonical, one
converter per framework in its folder (dlbench.frameworks.<keras|torch|jax|tensorflow>.verify, named by its
declaration), one worker process per framework (dlbench.verify.worker)."""
