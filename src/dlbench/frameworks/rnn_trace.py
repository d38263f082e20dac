"""One forward pass of a training framework's model, traced or profiled, as the top-level op names that
dlbench.frameworks.kernels.recurrent_launches() counts (how many loops, fused RNN kernels and per-step gate
activations it launches). It imports the framework it traces, so it is not part of the worker's Python 3.6 side;
tests/test_rnn_launches.py runs it on every recurrent workload in every framework."""
from dlbench.frameworks.kernels import jaxpr_top_ops, tf_graph_top_ops, torch_top_ops


def forward_top_ops(framework_id, model, inputs):
    """The top-level ops of one forward pass of a training framework's model in training mode, traced (jax, keras-jax,
    tensorflow, keras-tensorflow: nothing runs) or profiled (torch, keras-torch: one forward pass runs), for
    recurrent_launches(). inputs: the list of the model's numpy input arrays."""
    inputs = list(inputs)
    if framework_id.startswith("keras-"):
        backend = framework_id.split("-", 1)[1]
        x = inputs[0] if len(inputs) == 1 else inputs
        if backend == "jax":
            import jax

            return jaxpr_top_ops(jax.make_jaxpr(lambda trainable, other, x: model.stateless_call(
                trainable, other, x, training=True)[0])([v.value for v in model.trainable_variables],
                                                        [v.value for v in model.non_trainable_variables], x))
        if backend == "tensorflow":
            import tensorflow as tf

            forward = tf.function(lambda *x: model(x[0] if len(x) == 1 else list(x), training=True))
            return _tf_forward_ops(forward.get_concrete_function(*[tf.constant(a) for a in inputs]))
        import torch

        return _profiled(torch, lambda: model(x, training=True))
    if framework_id == "torch":
        import torch

        model.train()
        return _profiled(torch, lambda: model(*[torch.from_numpy(a) for a in inputs]))
    if framework_id == "jax":
        import jax
        from flax import nnx

        graphdef, state = nnx.split(model)
        model.train()
        return jaxpr_top_ops(jax.make_jaxpr(lambda state, *x: nnx.merge(graphdef, state)(*x))(state, *inputs))
    if framework_id == "tensorflow":
        import tensorflow as tf

        forward = tf.function(lambda *x: model(*x, training=True))
        return _tf_forward_ops(forward.get_concrete_function(*[tf.constant(a) for a in inputs]))
    raise ValueError("no forward trace for %r" % framework_id)


def _tf_forward_ops(concrete_function):
    graph = concrete_function.graph
    return tf_graph_top_ops(graph.as_graph_def(), [t.op.name for t in graph.outputs])


def _profiled(torch, run):
    from torch.profiler import ProfilerActivity, profile

    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    return torch_top_ops(prof.events())
